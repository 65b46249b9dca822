// The reference for the image workers: the same `processImage` the workers
// call (imported from the built module, packages/server/dist/processing),
// on the same photos, the same number of jobs at once, but reading each photo
// from a local file and keeping the variants in memory: no queue, no node
// reads or writes, no SQLite. Runs as its own process, like the gateway, so
// neither the bench's event loop nor its thread pool takes part.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { repoRoot } from './paths.mjs';
import { firstJsonLine, spawnTracked } from './processes.mjs';

export const PROCESSING_MODULE = join(repoRoot, 'packages/server/dist/processing/index.js');
/** The gateway's default limit (config.ts); a 12 MP photo is far below it. */
const MAX_PIXELS = 100_000_000;

/**
 * Processes every photo once with the default variant set, then once more
 * for the thumbnail alone; `concurrency` jobs at once in both runs.
 */
export async function measureRawSharp({ paths, concurrency, timeoutMs }) {
  const args = [fileURLToPath(import.meta.url), JSON.stringify({ paths, concurrency })];
  const proc = spawnTracked('raw-sharp', process.execPath, args, { cwd: repoRoot });
  return firstJsonLine(proc, timeoutMs);
}

async function main({ paths, concurrency }) {
  // Loaded before the clock starts, as the gateway's image process loads it before the gateway listens.
  const { DEFAULT_VARIANTS, processImage } = await import(pathToFileURL(PROCESSING_MODULE).href);
  const run = async (variants) => {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const latencies = [];
    let first;
    await inParallel(paths, concurrency, async (path, i) => {
      const t0 = performance.now();
      const made = await processImage(path, { variants, maxPixels: MAX_PIXELS });
      latencies.push(performance.now() - t0);
      if (i === 0) first = made.map(({ name, width, height, size, sha256 }) => ({ name, width, height, size, sha256 }));
    });
    const elapsedSec = (performance.now() - started) / 1000;
    const { user, system } = process.cpuUsage(cpu);
    latencies.sort((a, b) => a - b);
    return {
      variants: [...variants],
      count: paths.length,
      elapsedSec,
      perSec: paths.length / elapsedSec,
      cpuMsPerPhoto: (user + system) / 1000 / paths.length,
      corePercent: Math.round((user + system) / 1e4 / elapsedSec),
      latencyMs: { p50: latencies[Math.floor(latencies.length / 2)], max: latencies.at(-1) },
      firstPhotoVariants: first,
    };
  };
  const full = await run(DEFAULT_VARIANTS);
  const thumbs = await run(['thumb']);
  return { ...full, thumbs, avifCost: await avifCost(paths.slice(0, 4)) };
}

/**
 * What AVIF would add per preview size (issue: CDN origin): CPU ms per
 * photo to resize and encode each size in WebP (the variants' settings) and
 * in AVIF (the avif variant's settings), one photo at a time.
 */
async function avifCost(paths) {
  const { default: sharp } = await import('sharp');
  const sizes = { thumb: 256, small: 1024, full: 4096 };
  const encoders = {
    webp: (image, size) => image.webp(size === 4096 ? { quality: 75, effort: 2 } : { quality: 80, effort: 4 }),
    avif: (image) => image.avif({ quality: 55, effort: 0 }),
  };
  const cost = {};
  for (const [name, size] of Object.entries(sizes)) {
    cost[name] = {};
    for (const [format, encode] of Object.entries(encoders)) {
      const cpu = process.cpuUsage();
      let bytes = 0;
      for (const path of paths) {
        const resized = sharp(path).rotate().resize(size, size, { fit: 'inside', withoutEnlargement: true });
        bytes += (await encode(resized, size).toBuffer()).length;
      }
      const { user, system } = process.cpuUsage(cpu);
      cost[name][format] = { cpuMsPerPhoto: (user + system) / 1000 / paths.length, bytes: Math.round(bytes / paths.length) };
    }
    cost[name].avifOverWebp = cost[name].avif.cpuMsPerPhoto / cost[name].webp.cpuMsPerPhoto;
  }
  return cost;
}

/** Runs work(item, index) over items with at most `concurrency` at once. */
async function inParallel(items, concurrency, work) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await main(JSON.parse(process.argv[2]));
  process.stdout.write(JSON.stringify(result) + '\n');
}
