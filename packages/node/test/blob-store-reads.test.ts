import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BlobStore, type BlobStoreOptions, type OpenedBlob } from '../src/index.js';
import { quietLogger, tempDir } from './support.js';

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

async function openStore(options: Partial<BlobStoreOptions> = {}): Promise<BlobStore> {
  const store = new BlobStore({ dataDir: options.dataDir ?? (await tempDir()), logger: quietLogger, ...options });
  await store.init();
  return store;
}

async function put(store: BlobStore, key: string, bytes: Buffer): Promise<void> {
  // Several chunks of uneven size, like a network body.
  const chunks = [bytes.subarray(0, 1000), bytes.subarray(1000, 70_000), bytes.subarray(70_000)];
  await store.put(key, Readable.from(chunks), { sha256: sha256(bytes) });
}

async function contentOf(blob: OpenedBlob): Promise<Buffer> {
  return blob.bytes ?? buffer(blob.stream);
}

/** Makes every blob look long unused, so reads take the asynchronous path instead of the warm one. */
function everyReadCold(): void {
  let clock = performance.now();
  vi.spyOn(performance, 'now').mockImplementation(() => (clock += 60_000));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('BlobStore reads', () => {
  describe.each([
    ['warm', () => undefined],
    ['cold', everyReadCold],
  ])('%s', (_mode, setUp) => {
    it.each([
      ['buffered', 20 * 1024],
      ['pooled', 300 * 1024],
      ['streamed', 1536 * 1024],
    ])('never serves a mixed %s blob while the key is replaced under concurrent reads', async (_kind, size) => {
      setUp();
      const store = await openStore();
      // Same size for two versions, so only the digest can tell them apart.
      const versions = [randomBytes(size), randomBytes(size), randomBytes(size + 4096)];
      const digests = new Set(versions.map(sha256));
      await put(store, 'hot', versions[0] as Buffer);
      let writing = true;
      let reads = 0;
      const reader = async (): Promise<void> => {
        while (writing || reads < 50) {
          const blob = await store.open('hot');
          const content = await contentOf(blob);
          expect(content.length).toBe(blob.size);
          expect(sha256(content)).toBe(blob.sha256);
          expect(digests.has(blob.sha256)).toBe(true);
          blob.release?.();
          reads++;
          // A warm read completes without I/O; let the writer's I/O run, as requests arriving over the network would.
          await nextTurn();
        }
      };
      const writer = async (): Promise<void> => {
        for (let i = 1; i <= 24; i++) await put(store, 'hot', versions[i % versions.length] as Buffer);
        writing = false;
      };
      await Promise.all([writer(), ...Array.from({ length: 6 }, reader)]);
      expect(await store.stats()).toMatchObject({ blobCount: 1, usedBytes: (versions[24 % 3] as Buffer).length });
    });
  });

  it('keeps streaming the version it opened when the key is replaced or deleted meanwhile', async () => {
    const store = await openStore();
    const first = randomBytes(3 * 1024 * 1024);
    await put(store, 'moving', first);
    const opened = await store.open('moving');
    expect(opened.bytes).toBeUndefined();
    await put(store, 'moving', randomBytes(1000));
    await store.delete('moving');
    expect(sha256(await buffer(opened.stream))).toBe(sha256(first));
    await expect(store.open('moving')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
  });

  it('answers right after replace, delete, re-create and restart', async () => {
    const dataDir = await tempDir();
    const store = await openStore({ dataDir });
    const [a, b, c] = [randomBytes(5000), randomBytes(7000), randomBytes(9000)] as [Buffer, Buffer, Buffer];
    await put(store, 'k', a);
    expect(await contentOf(await store.open('k'))).toEqual(a);
    await put(store, 'k', b);
    const replaced = await store.open('k', { start: 10, end: 19 });
    expect(replaced).toMatchObject({ size: b.length, sha256: sha256(b), start: 10, end: 19 });
    expect(await contentOf(replaced)).toEqual(b.subarray(10, 20));
    await store.delete('k');
    await expect(store.open('k')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await expect(store.stat('k')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    await put(store, 'k', c);

    const restarted = await openStore({ dataDir });
    for (let i = 0; i < 2; i++) {
      const blob = await restarted.open('k'); // first from the sidecar, then from the cache
      expect(blob).toMatchObject({ size: c.length, sha256: sha256(c) });
      expect(await contentOf(blob)).toEqual(c);
    }
    await expect(restarted.open('k', { start: c.length })).rejects.toMatchObject({
      code: 'RANGE_NOT_SATISFIABLE',
      details: { size: c.length },
    });
    expect(await restarted.stats()).toMatchObject({ blobCount: 1, usedBytes: c.length });
  });

  it('stays right when the working set outgrows the cache', async () => {
    const store = await openStore({ infoCacheEntries: 2 });
    const blobs = Array.from({ length: 6 }, (_, i) => randomBytes(1000 + i));
    for (const [i, bytes] of blobs.entries()) await put(store, `key-${i}`, bytes);
    for (const i of [0, 5, 1, 4, 2, 3, 0, 0, 5, 2]) {
      const blob = await store.open(`key-${i}`);
      expect(blob.sha256).toBe(sha256(blobs[i] as Buffer));
      expect(await contentOf(blob)).toEqual(blobs[i]);
    }
  });

  it.runIf(process.platform === 'linux')('closes every file it opens, whatever happens to the read', async () => {
    const store = await openStore();
    await put(store, 'small', randomBytes(2000));
    await put(store, 'large', randomBytes(2 * 1024 * 1024));
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    for (const cold of [false, true]) {
      if (cold) everyReadCold();
      await contentOf(await store.open('small'));
      await contentOf(await store.open('large'));
      const abandoned = (await store.open('large')).stream;
      await new Promise((resolve) => abandoned.once('close', resolve).destroy());
      await expect(store.open('small', { start: 5000 })).rejects.toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });
      await expect(store.open('absent')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
      await expect(
        store.put('bad', Readable.from([Buffer.from('x')]), { sha256: '0'.repeat(64) }),
      ).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
    }
    expect(openFds()).toBe(before);
  });
});
