import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchOut } from './paths.mjs';

/** Rows of the results table: each a Legim number against its reference from the same run. */
export function tableRows(results) {
  const rows = [];
  for (const d of Object.values(results.downloads)) {
    const size = sizeLabel(d.size);
    rows.push(row(`download ${size} req/s`, d.legim.requestsPerSec, d.nginx.requestsPerSec, d.target.metric === 'req/s' ? d.target.ratio : undefined, d));
    rows.push(row(`download ${size} MB/s`, d.legim.payloadMBps, d.nginx.payloadMBps, d.target.metric === 'MB/s' ? d.target.ratio : undefined, d));
  }
  const u = results.uploads;
  if (u) rows.push(row(`upload ${sizeLabel(u.size)} x3 uploads/s`, u.legim.perSec, u.raw.perSec, u.target, u));
  return rows;
}

function row(name, legim, reference, target, source) {
  const ratio = legim / reference;
  const lat = (r) => `${fmt(r.latencyMs.p50)}/${fmt(r.latencyMs.p99)}`;
  return {
    benchmark: name,
    legim: fmt(legim),
    reference: `${fmt(reference)} (${source.nginx ? 'nginx' : 'raw fsync'})`,
    ratio: `${ratio.toFixed(2)}x`,
    target: target === undefined ? '' : `>=${target}x ${ratio >= target ? 'met' : 'MISSED'}`,
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
  const line = (name, r, rate) => {
    // Only the side under load: the other side's idle heartbeats are noise.
    const ours = (proc) => (name.endsWith('nginx') ? proc === 'nginx' : proc !== 'nginx');
    const procs = Object.entries(r.cpu.perProcessCorePercent).filter(([proc, pct]) => ours(proc) && pct >= 2);
    const list = procs.map(([proc, pct]) => `${proc} ${pct}%`).join(', ');
    const total = procs.reduce((sum, [, pct]) => sum + pct, 0);
    const perRequest = procs.length > 0 ? `; ${fmt((total * 10_000) / rate)} us/request` : '';
    console.log(`  ${name.padEnd(26)} machine ${r.cpu.machineBusyPercent}%${list ? `; ${list}` : ''}${perRequest}`);
  };
  for (const d of Object.values(results.downloads)) {
    line(`download ${sizeLabel(d.size)} nginx`, d.nginx, d.nginx.requestsPerSec);
    line(`download ${sizeLabel(d.size)} legim`, d.legim, d.legim.requestsPerSec);
  }
  if (results.uploads) {
    line('upload raw fsync', results.uploads.raw, results.uploads.raw.perSec);
    line('upload legim', results.uploads.legim, results.uploads.legim.perSec);
  }
}

export function printProfile(name, profile) {
  console.log(`\nCPU profile of the ${name}, 20 KiB downloads (${profile.seconds}s, busy in ${profile.busyPercent}% of samples); shares of busy samples:`);
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
