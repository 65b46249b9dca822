import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchOut } from './paths.mjs';

/** Rows of the results table: each a Legim number against its reference from the same run. */
export function tableRows(results) {
  const rows = [];
  for (const d of Object.values(results.downloads ?? {})) {
    const size = sizeLabel(d.size);
    rows.push(
      row(
        `download ${size} req/s`,
        d.legim.requestsPerSec,
        d.nginx.requestsPerSec,
        d.target.metric === 'req/s' ? d.target.ratio : undefined,
        d,
      ),
    );
    rows.push(
      row(
        `download ${size} MB/s`,
        d.legim.payloadMBps,
        d.nginx.payloadMBps,
        d.target.metric === 'MB/s' ? d.target.ratio : undefined,
        d,
      ),
    );
  }
  const u = results.uploads;
  if (u) rows.push(row(`upload ${sizeLabel(u.size)} x3 uploads/s`, u.legim.perSec, u.raw.perSec, u.target, u));
  if (results.gateways) rows.push(...gatewayRows(results.gateways));
  if (results.engines) rows.push(...engineRows(results.engines));
  if (results.processing) rows.push(...processingRows(results.processing));
  if (results.tls) rows.push(...tlsRows(results.tls));
  return rows;
}

/** HTTPS everywhere, and encryption at rest, each against plain HTTP: same cluster shape, same run. */
function tlsRows(t) {
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  const compare = (name, side, plain, value) => ({
    benchmark: name,
    legim: fmt(value(side)),
    reference: `${fmt(value(plain))} (plain HTTP)`,
    ratio: ratioText(value(side) / value(plain)),
    target: '',
    'p50/p99 ms legim': lat(side),
    'p50/p99 ms ref': lat(plain),
  });
  const rows = [];
  for (const [side, label] of [
    ['tls', 'TLS'],
    ['encrypted', 'encrypted'],
  ]) {
    if (!t.downloads[side]) continue;
    rows.push(
      compare(
        `download ${sizeLabel(t.size.download)} req/s, ${label}`,
        t.downloads[side],
        t.downloads.plain,
        (r) => r.requestsPerSec,
      ),
    );
    if (t.largeDownloads) {
      rows.push(
        compare(
          `download ${sizeLabel(t.size.largeDownload)} MB/s, ${label}`,
          t.largeDownloads[side],
          t.largeDownloads.plain,
          (r) => r.payloadMBps,
        ),
      );
    }
    rows.push(
      compare(`upload ${sizeLabel(t.size.upload)} x3 uploads/s, ${label}`, t.uploads[side], t.uploads.plain, (r) => r.perSec),
    );
  }
  return rows;
}

/** Worker throughput against raw sharp; upload latency with the workers busy against idle (lower is better). */
function processingRows(p) {
  const { throughput: t, latency: l } = p;
  const mp = Math.round((p.photo.width * p.photo.height) / 1e6);
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  const rows = [
    {
      benchmark: `process ${mp} MP photos/s`,
      legim: fmt(t.legim.perSec),
      reference: `${fmt(t.raw.perSec)} (raw sharp)`,
      ratio: ratioText(t.legim.perSec / t.raw.perSec),
      target: targetText(t.legim.perSec / t.raw.perSec, t.target),
      'p50/p99 ms legim': '',
      'p50/p99 ms ref': '',
    },
    {
      // CPU per photo: what decides throughput once the cores are full, and steadier than photos/s on a shared machine.
      benchmark: `process ${mp} MP CPU ms/photo`,
      legim: fmt(t.legim.cpuMsPerPhoto),
      reference: `${fmt(t.raw.cpuMsPerPhoto)} (raw sharp)`,
      ratio: ratioText(t.legim.cpuMsPerPhoto / t.raw.cpuMsPerPhoto),
      target: '',
      'p50/p99 ms legim': '',
      'p50/p99 ms ref': '',
    },
  ];
  for (const q of ['p50', 'p99']) {
    const ratio = l.busy.latencyMs[q] / l.idle.latencyMs[q];
    rows.push({
      benchmark: `upload ${sizeLabel(l.size)} ${q} ms, workers busy`,
      legim: fmt(l.busy.latencyMs[q]),
      reference: `${fmt(l.idle.latencyMs[q])} (workers idle)`,
      ratio: ratioText(ratio),
      target: targetText(ratio, l.target),
      'p50/p99 ms legim': lat(l.busy),
      'p50/p99 ms ref': lat(l.idle),
    });
  }
  return rows;
}

/** The index in PostgreSQL against SQLite, same cluster shape, same run. */
function engineRows(e) {
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  const compare = (name, postgres, sqlite, value) => ({
    benchmark: name,
    legim: fmt(value(postgres)),
    reference: `${fmt(value(sqlite))} (SQLite index)`,
    ratio: ratioText(value(postgres) / value(sqlite)),
    target: '',
    'p50/p99 ms legim': lat(postgres),
    'p50/p99 ms ref': lat(sqlite),
  });
  return [
    compare(
      `download ${sizeLabel(e.smallSize)} req/s, PostgreSQL index`,
      e.downloads.postgres,
      e.downloads.sqlite,
      (r) => r.requestsPerSec,
    ),
    compare(
      `upload ${sizeLabel(e.largeSize)} x3 uploads/s, PostgreSQL index`,
      e.uploads.postgres,
      e.uploads.sqlite,
      (r) => r.perSec,
    ),
  ];
}

/** Downloads through nginx in front of 2 and 1 gateways, against nginx serving the file, and 2 against 1. */
function gatewayRows(g) {
  const size = sizeLabel(g.size);
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  const compare = (name, legim, reference, label) => ({
    benchmark: name,
    legim: fmt(legim.requestsPerSec),
    reference: `${fmt(reference.requestsPerSec)} (${label})`,
    ratio: ratioText(legim.requestsPerSec / reference.requestsPerSec),
    target: '',
    'p50/p99 ms legim': lat(legim),
    'p50/p99 ms ref': lat(reference),
  });
  const counter = g.counter ? ` (${g.counter})` : '';
  return [
    compare(`download ${size} req/s, nginx+2 gw${counter}`, g.twoGateways, g.nginx, 'nginx'),
    compare(`download ${size} req/s, nginx+1 gw${counter}`, g.oneGateway, g.nginx, 'nginx'),
    compare(`download ${size} req/s, 2 gw vs 1${counter}`, g.twoGateways, g.oneGateway, 'nginx+1 gw'),
  ];
}

function ratioText(ratio) {
  return `${ratio.toFixed(2)}x`;
}

/** A number is a floor (>=); { atMost } a ceiling (<=). */
function targetText(ratio, target) {
  if (typeof target === 'number') return `>=${target}x ${ratio >= target ? 'met' : 'MISSED'}`;
  return `<=${target.atMost}x ${ratio <= target.atMost ? 'met' : 'MISSED'}`;
}

function row(name, legim, reference, target, source) {
  const ratio = legim / reference;
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  return {
    benchmark: name,
    legim: fmt(legim),
    reference: `${fmt(reference)} (${source.nginx ? 'nginx' : 'raw fsync'})`,
    ratio: ratioText(ratio),
    target: target === undefined ? '' : targetText(ratio, target),
    'p50/p99 ms legim': lat(source.legim),
    'p50/p99 ms ref': lat(source.nginx ?? source.raw),
  };
}

export function printTable(rows) {
  const columns = Object.keys(rows[0]);
  const width = (c) => Math.max(c.length, ...rows.map((r) => r[c].length));
  const line = (cells) => cells.map((cell, i) => cell.padEnd(width(columns[i]))).join('  ');
  console.log(line(columns));
  console.log(columns.map((c) => '-'.repeat(width(c))).join('  '));
  for (const r of rows) console.log(line(columns.map((c) => r[c])));
}

/**
 * Where the cores went during each measured load (the load generator is the
 * machine's remainder), and the servers' CPU per request: the number that
 * decides throughput once the 2 cores are full.
 */
export function printCpu(results) {
  console.log('\nCPU during each measured load (% of one core; machine busy % of all cores; server CPU per request):');
  const sideLine = (name, r, rate, ours) => {
    const procs = Object.entries(r.cpu.perProcessCorePercent).filter(([proc, pct]) => ours(proc) && pct >= 2);
    const list = procs.map(([proc, pct]) => `${proc} ${pct}%`).join(', ');
    const total = procs.reduce((sum, [, pct]) => sum + pct, 0);
    const perRequest = procs.length > 0 ? `; ${fmt((total * 10_000) / rate)} us/request` : '';
    console.log(`  ${name.padEnd(26)} machine ${r.cpu.machineBusyPercent}%${list ? `; ${list}` : ''}${perRequest}`);
  };
  // Only the side under load: the other side's idle heartbeats are noise.
  const line = (name, r, rate) =>
    sideLine(name, r, rate, (proc) => (name.endsWith('nginx') ? proc === 'nginx' : proc !== 'nginx'));
  for (const d of Object.values(results.downloads ?? {})) {
    line(`download ${sizeLabel(d.size)} nginx`, d.nginx, d.nginx.requestsPerSec);
    line(`download ${sizeLabel(d.size)} legim`, d.legim, d.legim.requestsPerSec);
  }
  if (results.uploads) {
    line('upload raw fsync', results.uploads.raw, results.uploads.raw.perSec);
    line('upload legim', results.uploads.legim, results.uploads.legim.perSec);
  }
  const g = results.gateways;
  if (g) {
    // Each side's own processes: the static nginx alone, or its proxy nginx with the gateways and nodes.
    const own = { nginx: ['nginx'], oneGateway: ['nginx-1gw'], twoGateways: ['nginx-2gw'] };
    const others = new Set(Object.values(own).flat());
    for (const [side, label] of [
      ['nginx', 'nginx file'],
      ['oneGateway', 'nginx+1 gw'],
      ['twoGateways', 'nginx+2 gw'],
    ]) {
      const ours = (proc) => own[side].includes(proc) || (side !== 'nginx' && !others.has(proc));
      sideLine(`download ${sizeLabel(g.size)} ${label}`, g[side], g[side].requestsPerSec, ours);
    }
  }
  if (results.tls) {
    const { downloads: d, largeDownloads: l, uploads: u } = results.tls;
    for (const side of Object.keys(d)) {
      line(`download 20 KiB ${side}`, d[side], d[side].requestsPerSec);
      if (l) line(`download 1 MB ${side}`, l[side], l[side].requestsPerSec);
      line(`upload ${side}`, u[side], u[side].perSec);
    }
  }
  const p = results.processing;
  if (p) {
    const { raw, legim } = p.throughput;
    const perPhoto = (r) => `${fmt(r.cpuMsPerPhoto)} ms CPU/photo`;
    console.log(`  ${'process raw sharp'.padEnd(26)} raw-sharp ${raw.corePercent}%; ${perPhoto(raw)}`);
    const procs = (r) =>
      Object.entries(r.cpu.perProcessCorePercent)
        .filter(([, pct]) => pct >= 2)
        .map(([proc, pct]) => `${proc} ${pct}%`)
        .join(', ');
    console.log(
      `  ${'process legim workers'.padEnd(26)} machine ${legim.cpu.machineBusyPercent}%; ${procs(legim)}; ${perPhoto(legim)}`,
    );
    line('upload, workers idle', p.latency.idle, p.latency.idle.perSec);
    line('upload, workers busy', p.latency.busy, p.latency.busy.perSec);
    const { busy, idle } = p.latency;
    const backlog = busy.backlog;
    console.log('\nProcessing:');
    console.log(
      `  raw sharp, thumbnail only: ${fmt(raw.thumbs.perSec)} photos/s (${fmt(raw.thumbs.cpuMsPerPhoto)} ms CPU/photo); ` +
        `default set: ${fmt(raw.perSec)} photos/s, p50 ${fmt(raw.latencyMs.p50)} ms per photo with ${p.workers} at once`,
    );
    console.log(
      `  uploads/s: ${fmt(idle.perSec)} with the workers idle, ${fmt(busy.perSec)} busy; ` +
        `meanwhile the workers finished ${backlog.processedDuringLoad} photos (${fmt(backlog.photosPerSecDuringLoad)}/s), ` +
        `${backlog.waitingAtEnd} of ${backlog.photos} not yet ready at the end` +
        (backlog.saturatedThroughout ? '' : ' (NOT saturated throughout: use more --photos)'),
    );
  }
}

export function printProfile(name, profile) {
  console.log(
    `\nCPU profile of the ${name}, 20 KiB downloads (${profile.seconds}s, busy in ${profile.busyPercent}% of samples); shares of busy samples:`,
  );
  const list = (title, items) => {
    console.log(`  ${title}`);
    for (const { name, percent } of items) console.log(`    ${String(percent).padStart(5)}%  ${name}`);
  };
  list('self time by area:', profile.areas);
  list('self time by function:', profile.selfTop);
  list('inclusive time, Legim functions:', profile.legimInclusiveTop);
}

export function writeResults(results) {
  mkdirSync(benchOut, { recursive: true });
  const path = join(benchOut, 'results.json');
  writeFileSync(path, JSON.stringify(results, null, 2) + '\n');
  return path;
}

function fmt(x) {
  if (!Number.isFinite(x)) return '-';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function sizeLabel(bytes) {
  return bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.round(bytes / 1024)} KiB`;
}
