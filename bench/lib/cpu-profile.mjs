import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.mjs';

/**
 * Reads the .cpuprofile files that `node --cpu-prof --cpu-prof-dir dir`
 * wrote (one per process) and summarises the busiest one, counting only the
 * samples inside window ({from, to} in µs of the monotonic clock that both
 * V8's profiler and process.hrtime use), so start-up and shutdown do not count.
 */
export function summariseBusiestProfile(dir, window, top = 15) {
  const files = readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile in ${dir} (did the process exit cleanly?)`);
  const summaries = files.map((file) => summarise(JSON.parse(readFileSync(join(dir, file), 'utf8')), window, top));
  return summaries.sort((a, b) => b.busySamples - a.busySamples)[0];
}

/**
 * Self time per function, inclusive time of Legim's own functions, and self
 * time per area (Node's HTTP, streams, SQLite...), all as shares of the busy
 * (non-idle) samples.
 */
export function summarise(profile, window, top) {
  const self = new Map();
  const inclusive = new Map();
  const areas = new Map();
  const { busy, idle } = countSamples(profile, window, { self, inclusive, areas });
  const share = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, count]) => ({ name, percent: round((100 * count) / busy) }));
  return {
    seconds: round((window.to - window.from) / 1e6),
    busySamples: busy,
    busyPercent: round((100 * busy) / (busy + idle)),
    selfTop: share(self, top),
    areas: share(areas, 12),
    legimInclusiveTop: share(inclusive, 12),
  };
}

function countSamples(profile, window, { self, inclusive, areas }) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  let busy = 0;
  let idle = 0;
  let at = profile.startTime;
  for (const [i, id] of profile.samples.entries()) {
    at += profile.timeDeltas[i];
    if (at < window.from || at > window.to) continue;
    const frame = byId.get(id).callFrame;
    if (frame.functionName === '(idle)') {
      idle++;
      continue;
    }
    busy++;
    bump(self, label(frame));
    bump(areas, area(frame));
    for (const key of ancestorsOwnCode(id, byId, parent)) bump(inclusive, key);
  }
  return { busy, idle };
}

function ancestorsOwnCode(id, byId, parent) {
  const keys = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at).callFrame;
    if (frame.url.includes('/packages/')) keys.add(label(frame));
  }
  return keys;
}

function bump(map, key) {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function label(frame) {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

function shortUrl(url) {
  const path = url.replace(/^file:\/\//, '').replace(`${repoRoot}/`, '');
  const pkg = path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\/.*?([^/]+)$/);
  return pkg ? `${pkg[1]}/${pkg[2]}` : path;
}

function area(frame) {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.includes('/packages/server/')) return '@legim/server';
  if (url.includes('/packages/node/')) return '@legim/node';
  if (url.includes('/packages/sdk/')) return '@legim/sdk';
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  const internal = url.match(/^node:(?:internal\/)?([^/]+)/);
  return internal ? `node:${internal[1].replace(/\.js$/, '')}` : url;
}

function round(x) {
  return Math.round(x * 10) / 10;
}
