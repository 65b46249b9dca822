import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlobStore } from '../src/index.js';
import { filesUnder, quietLogger, tempDir } from './support.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function openStore(options: { highWaterMark?: number } = {}): Promise<BlobStore> {
  const store = new BlobStore({ dataDir: await tempDir(), logger: quietLogger, ...options });
  await store.init();
  return store;
}

/** `bytes` in chunks of uneven sizes, like a network body. */
function unevenChunks(bytes: Buffer): Buffer[] {
  const chunks: Buffer[] = [];
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = [7000, 65536, 1, 300_000, 4096][i % 5] as number;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}

/** Sends `bytes`, then fails like a dropped connection. */
function failingAfter(bytes: Buffer): Readable {
  const chunks = unevenChunks(bytes);
  return new Readable({
    read() {
      const next = chunks.shift();
      if (next) this.push(next);
      else this.destroy(new Error('connection reset'));
    },
  });
}

describe('BlobStore writes', () => {
  it.each([16 * 1024, 64 * 1024, 1024 * 1024])(
    'stores bodies larger than its %i-byte write batch byte for byte',
    async (batch) => {
      const store = await openStore({ highWaterMark: batch });
      const bytes = randomBytes(2 * 1024 * 1024 + 12_345);
      const stored = await store.put('big', Readable.from(unevenChunks(bytes)), { sha256: sha256(bytes) });
      expect(stored).toEqual({ key: 'big', size: bytes.length, sha256: sha256(bytes) });
      const reopened = new BlobStore({ dataDir: store.dataDir, highWaterMark: batch, logger: quietLogger });
      await reopened.init();
      expect(sha256(await buffer((await reopened.open('big')).stream))).toBe(sha256(bytes));
    },
  );

  it('leaves not even a shard folder behind when a write fails', async () => {
    const store = await openStore({ highWaterMark: 16 * 1024 });
    const bytes = randomBytes(500_000);
    await expect(store.put('k1', failingAfter(bytes), { sha256: sha256(bytes) })).rejects.toThrow('connection reset');
    await expect(store.put('k2', Readable.from(unevenChunks(bytes)), { sha256: 'f'.repeat(64) })).rejects.toMatchObject(
      { code: 'DIGEST_MISMATCH' },
    );
    expect(await readdir(store.blobsDir)).toEqual([]);
    expect(await filesUnder(store.dataDir)).toEqual([]);
    expect(await store.stats()).toMatchObject({ blobCount: 0, usedBytes: 0 });
  });

  it('gives up at once, leaving nothing, when the sender hung up before the write began', async () => {
    const store = await openStore();
    const bytes = randomBytes(100_000);
    // All sent, then the connection dropped while the store was still opening its file: 'close' came first.
    const source = Readable.from(unevenChunks(bytes));
    const putting = store.put('early', source, { sha256: sha256(bytes) });
    source.destroy();
    await expect(putting).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
    expect(await filesUnder(store.dataDir)).toEqual([]);
  });

  it.runIf(process.platform === 'linux')('closes its files whether a write succeeds or fails mid-batch', async () => {
    const store = await openStore({ highWaterMark: 16 * 1024 });
    const bytes = randomBytes(300_000);
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (let i = 0; i < 5; i++) {
      await store.put(`ok-${i}`, Readable.from(unevenChunks(bytes)), { sha256: sha256(bytes) });
      await expect(store.put(`failed-${i}`, failingAfter(bytes), { sha256: sha256(bytes) })).rejects.toThrow();
    }
    expect(openFds()).toBe(before);
    expect(await store.stats()).toMatchObject({ blobCount: 5, usedBytes: 5 * bytes.length });
  });

  it('counts a replace once, whether or not the replaced blob was in the cache', async () => {
    const store = await openStore();
    const [a, b, c] = [randomBytes(1000), randomBytes(2000), randomBytes(3000)];
    await store.put('k', Readable.from([a]), { sha256: sha256(a) });
    await store.put('k', Readable.from([b]), { sha256: sha256(b) });
    expect(await store.stats()).toMatchObject({ blobCount: 1, usedBytes: b.length });
    const restarted = new BlobStore({ dataDir: store.dataDir, infoCacheEntries: 0, logger: quietLogger });
    await restarted.init();
    await restarted.put('k', Readable.from([c]), { sha256: sha256(c) });
    expect(await restarted.stats()).toMatchObject({ blobCount: 1, usedBytes: c.length });
  });
});
