// The disk's ceiling for a 3-replica upload: 3 durable copies written the
// same way a storage node does (temp file, write, fsync, rename, directory
// fsync), the 3 in parallel, by N concurrent writers. Runs as its own process
// so the bench's event loop and thread pool do not take part.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedLoop } from './closed-loop.mjs';
import { firstJsonLine, spawnTracked } from './processes.mjs';

const COPIES = 3;
// Each storage node has libuv's default 4 threads for file I/O; 3 nodes have 12.
const THREADPOOL = 4 * COPIES;

export async function measureRawFsync({ dir, imagePath, concurrency, seconds }) {
  const args = [fileURLToPath(import.meta.url), JSON.stringify({ dir, imagePath, concurrency, seconds })];
  const proc = spawnTracked('raw-fsync', process.execPath, args, {
    env: { ...process.env, UV_THREADPOOL_SIZE: String(THREADPOOL) },
  });
  return firstJsonLine(proc, (seconds + 60) * 1000);
}

async function main({ dir, imagePath, concurrency, seconds }) {
  const bytes = readFileSync(imagePath);
  const copies = Array.from({ length: COPIES }, (_, i) => prepareCopyDir(join(dir, `copy-${i + 1}`)));
  const writeAll = (n) => Promise.all(copies.map((copy) => durableWrite(copy, `blob-${n}`, bytes)));
  await writeAll('warmup');
  const cpu = process.cpuUsage();
  const result = await closedLoop({ concurrency, seconds, operation: writeAll });
  const { user, system } = process.cpuUsage(cpu);
  const corePercent = Math.round((user + system) / 1e4 / result.elapsedSec);
  return { ...result, MBps: (result.perSec * bytes.length) / 1e6, corePercent };
}

function prepareCopyDir(root) {
  const copy = { tmp: join(root, 'tmp'), blobs: join(root, 'blobs') };
  mkdirSync(copy.tmp, { recursive: true });
  mkdirSync(copy.blobs, { recursive: true });
  return copy;
}

async function durableWrite(copy, key, bytes) {
  const tmpPath = join(copy.tmp, key);
  const file = await open(tmpPath, 'w');
  try {
    await file.writeFile(bytes);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmpPath, join(copy.blobs, key));
  const folder = await open(copy.blobs, 'r');
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await main(JSON.parse(process.argv[2]));
  process.stdout.write(JSON.stringify(result) + '\n');
}
