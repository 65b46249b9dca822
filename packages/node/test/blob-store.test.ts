import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { BlobStore } from '../src/index.js';
import { filesUnder, quietLogger, tempDir } from './support.js';

const PHOTO = 'photo-mountains-3264x2448.jpg';

async function openStore(options: { capacityBytes?: number; dataDir?: string } = {}): Promise<BlobStore> {
  const store = new BlobStore({ dataDir: options.dataDir ?? (await tempDir()), logger: quietLogger, ...options });
  await store.init();
  return store;
}

function shardOf(key: string): string {
  const digest = createHash('sha256').update(key).digest('hex');
  return join(digest.slice(0, 2), digest.slice(2, 4));
}

/** A source that sends some bytes, then fails like a dropped connection. */
function failingSource(bytes: Buffer): Readable {
  return new Readable({
    read() {
      this.push(bytes);
      setImmediate(() => this.destroy(new Error('connection reset')));
    },
  });
}

describe('BlobStore', () => {
  it('stores a real photo byte for byte under its sharded path, with a sidecar', async () => {
    const store = await openStore();
    const bytes = fixtureBytes(PHOTO);
    const digest = sha256(bytes);
    const key = '7b3f0c1e-1111-4222-8333-944455556666';

    const stored = await store.put(key, createReadStream(fixture(PHOTO)), {
      sha256: digest,
      meta: { title: 'mountains' },
    });
    expect(stored).toEqual({ key, size: bytes.length, sha256: digest });

    const opened = await store.open(key);
    const read = await buffer(opened.stream);
    expect(sha256(read)).toBe(digest);
    expect(opened).toMatchObject({ size: bytes.length, sha256: digest, start: 0, end: bytes.length - 1 });

    expect(await filesUnder(store.dataDir)).toEqual([
      join('blobs', shardOf(key), key),
      join('blobs', shardOf(key), `${key}.meta.json`),
    ]);
    const sidecar = JSON.parse(await readFile(join(store.blobsDir, shardOf(key), `${key}.meta.json`), 'utf8'));
    expect(sidecar).toEqual({
      key,
      size: bytes.length,
      sha256: digest,
      storedAt: expect.any(String),
      meta: { title: 'mountains' },
    });
    expect(await store.stat(key)).toEqual(sidecar);
  });

  it('takes the digest after the bytes when only the end knows it', async () => {
    const store = await openStore();
    const bytes = fixtureBytes('png-alpha.png');
    let digestKnown: string | undefined;
    const source = Readable.from([bytes.subarray(0, 1000), bytes.subarray(1000)]).on('end', () => {
      digestKnown = sha256(bytes);
    });
    const stored = await store.put('late-digest', source, { expectedSha256: () => digestKnown });
    expect(stored.sha256).toBe(sha256(bytes));
  });

  it('keeps nothing on a digest mismatch, a missing digest or a failed source', async () => {
    const store = await openStore();
    const bytes = fixtureBytes('jpeg-progressive.jpg');
    await expect(store.put('k1', Readable.from([bytes]), { sha256: '0'.repeat(64) })).rejects.toMatchObject({
      code: 'DIGEST_MISMATCH',
    });
    await expect(store.put('k2', Readable.from([bytes]), {})).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(store.put('k3', failingSource(bytes), { sha256: sha256(bytes) })).rejects.toThrow('connection reset');
    expect(await filesUnder(store.dataDir)).toEqual([]);
    expect(await store.stats()).toMatchObject({ blobCount: 0, usedBytes: 0 });
  });

  it('serves ranges and empty blobs', async () => {
    const store = await openStore();
    const bytes = fixtureBytes('tiny-1x1.png');
    await store.put('tiny', Readable.from([bytes]), { sha256: sha256(bytes) });
    const tail = await store.open('tiny', { suffix: 10 });
    expect(await buffer(tail.stream)).toEqual(bytes.subarray(bytes.length - 10));
    expect(tail).toMatchObject({ start: bytes.length - 10, end: bytes.length - 1 });
    await expect(store.open('tiny', { start: bytes.length })).rejects.toMatchObject({ code: 'RANGE_NOT_SATISFIABLE' });

    await store.put('empty', Readable.from([]), { sha256: sha256(Buffer.alloc(0)) });
    const empty = await store.open('empty');
    expect(await buffer(empty.stream)).toHaveLength(0);
    expect(empty).toMatchObject({ size: 0, start: 0, end: -1 });
    await expect(store.open('missing')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND', statusCode: 404 });
  });

  it('replaces a key atomically and keeps the totals right, even when writes race', async () => {
    const store = await openStore();
    const small = fixtureBytes('webp-photo.webp');
    const large = fixtureBytes('png-palette.png');
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => {
        const bytes = i % 2 === 0 ? small : large;
        return store.put('same', Readable.from([bytes]), { sha256: sha256(bytes) });
      }),
    );
    const final = await store.stat('same');
    const content = await buffer((await store.open('same')).stream);
    expect(sha256(content)).toBe(final.sha256);
    expect(await store.stats()).toMatchObject({ blobCount: 1, usedBytes: final.size });
  });

  it('deletes idempotently', async () => {
    const store = await openStore();
    const bytes = fixtureBytes('tiny-1x1.png');
    await store.put('gone', Readable.from([bytes]), { sha256: sha256(bytes) });
    expect(await store.delete('gone')).toBe(true);
    expect(await store.delete('gone')).toBe(false);
    await expect(store.stat('gone')).rejects.toMatchObject({ code: 'BLOB_NOT_FOUND' });
    expect(await store.stats()).toMatchObject({ blobCount: 0, usedBytes: 0 });
    expect(await filesUnder(store.dataDir)).toEqual([]);
  });

  it('lists every blob once, in key order, page by page', async () => {
    const store = await openStore();
    const keys = Array.from({ length: 23 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
    for (const key of keys) {
      const bytes = Buffer.from(key);
      await store.put(key, Readable.from([bytes]), { sha256: sha256(bytes) });
    }
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await store.list(after, 10);
      seen.push(...page.blobs.map((blob) => blob.key));
      expect(page.blobs.length).toBeLessThanOrEqual(10);
      if (page.next === null) break;
      after = page.next;
    }
    expect(seen).toEqual(keys);
    const first = await store.list(undefined, 1);
    expect(first).toEqual({
      blobs: [{ key: 'key-00', size: 6, sha256: sha256(Buffer.from('key-00')) }],
      next: 'key-00',
    });
    expect((await store.list('key-22', 10)).blobs).toEqual([]);
  });

  it('refuses writes past its capacity and keeps nothing of them', async () => {
    const store = await openStore({ capacityBytes: 600_000 });
    const photo = fixtureBytes('photo-portrait-drum-2560x3837.jpg');
    await store.put('first', Readable.from([photo]), { sha256: sha256(photo) });
    await expect(
      store.put('second', createReadStream(fixture('photo-portrait-drum-2560x3837.jpg')), { sha256: sha256(photo) }),
    ).rejects.toMatchObject({
      code: 'INSUFFICIENT_STORAGE',
      statusCode: 507,
    });
    await expect(
      store.put('third', Readable.from([photo]), { sha256: sha256(photo), size: photo.length }),
    ).rejects.toMatchObject({
      code: 'INSUFFICIENT_STORAGE',
    });
    expect(await store.stats()).toMatchObject({
      blobCount: 1,
      usedBytes: photo.length,
      freeBytes: 600_000 - photo.length,
      totalBytes: 600_000,
    });
    expect(
      (await filesUnder(store.dataDir)).filter((file) => file.includes('second') || file.startsWith('tmp')),
    ).toEqual([]);
  });

  it('recounts at start-up and clears what a crash left behind', async () => {
    const dataDir = await tempDir();
    const first = await openStore({ dataDir });
    const bytes = fixtureBytes('gif-animated-8-frames.gif');
    await first.put('kept', Readable.from([bytes]), { sha256: sha256(bytes) });
    await writeFile(join(first.tmpDir, 'half-written'), 'partial');
    const orphanDir = join(first.blobsDir, shardOf('orphan'));
    await mkdir(orphanDir, { recursive: true });
    await writeFile(join(orphanDir, 'orphan.meta.json'), '{}');
    // A replace stopped after removing the old sidecar, or a write between its two renames.
    const halfDir = join(first.blobsDir, shardOf('half'));
    await mkdir(halfDir, { recursive: true });
    await writeFile(join(halfDir, 'half'), 'old bytes with no sidecar');

    const reopened = await openStore({ dataDir });
    expect(await reopened.stats()).toMatchObject({ blobCount: 1, usedBytes: bytes.length });
    expect(await filesUnder(dataDir)).toEqual([
      join('blobs', shardOf('kept'), 'kept'),
      join('blobs', shardOf('kept'), 'kept.meta.json'),
    ]);
  });

  it('reports disk figures', async () => {
    const store = await openStore();
    const stats = await store.stats();
    expect(stats.totalBytes).toBeGreaterThan(0);
    expect(stats.freeBytes).toBeGreaterThan(0);
    expect(stats.freeBytes).toBeLessThanOrEqual(stats.totalBytes);
  });
});
