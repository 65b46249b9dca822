import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { BlobInfoCache } from '../src/blob-info-cache.js';
import { BufferPool } from '../src/buffer-pool.js';
import { BufferedBlob } from '../src/opened-blob.js';

describe('BlobInfoCache', () => {
  it('hands out a new entry on every set, so an entry identifies one version', () => {
    const cache = new BlobInfoCache(10);
    const first = cache.set('k', { size: 1, sha256: 'a' });
    expect(cache.get('k')).toBe(first);
    const second = cache.set('k', { size: 1, sha256: 'a' });
    expect(second).not.toBe(first);
    expect(cache.get('k')).toBe(second);
    cache.delete('k');
    expect(cache.get('k')).toBeUndefined();
  });

  it('evicts the least recently used entries beyond its bound', () => {
    const cache = new BlobInfoCache(4);
    for (let i = 0; i < 4; i++) cache.set(`k${i}`, { size: i, sha256: String(i) });
    const hot = cache.get('k0');
    for (let i = 4; i < 12; i++) {
      cache.set(`k${i}`, { size: i, sha256: String(i) });
      expect(cache.get('k0')).toBe(hot); // read all along, so never the oldest for long
    }
    expect(cache.size).toBe(4);
    expect(cache.get('k1')).toBeUndefined();
    expect(cache.get('k11')).toMatchObject({ size: 11 });
  });

  it('keeps nothing when its bound is 0', () => {
    const cache = new BlobInfoCache(0);
    cache.set('k', { size: 1, sha256: 'a' });
    expect(cache.get('k')).toBeUndefined();
  });
});

describe('BufferPool', () => {
  it('pools only sizes worth pooling, and reuses what is given back', () => {
    const pool = new BufferPool(1024 * 1024, { minPooledBytes: 64 * 1024, maxIdle: 1 });
    expect(pool.take(1000).backing).toBeUndefined();
    expect(pool.take(2 * 1024 * 1024).backing).toBeUndefined();
    const first = pool.take(100_000);
    expect(first.bytes.length).toBe(100_000);
    expect(first.backing?.length).toBe(1024 * 1024);
    pool.give(first.backing as Buffer);
    expect(pool.take(200_000).backing).toBe(first.backing);
  });

  it('keeps at most maxIdle buffers', () => {
    const pool = new BufferPool(128 * 1024, { minPooledBytes: 1, maxIdle: 1 });
    const [a, b] = [pool.take(10), pool.take(10)];
    pool.give(a.backing as Buffer);
    pool.give(b.backing as Buffer);
    expect(pool.take(10).backing).toBe(a.backing);
    expect(pool.take(10).backing).not.toBe(b.backing);
  });
});

describe('BufferedBlob', () => {
  it('gives its pooled buffer back once released, and only once', () => {
    const pool = new BufferPool(128 * 1024, { minPooledBytes: 1, maxIdle: 4 });
    const read = pool.take(10);
    const blob = new BufferedBlob({ ...read, pool }, 10, 'sha', 0, 9);
    blob.release();
    blob.release();
    expect(pool.take(10).backing).toBe(read.backing);
    expect(pool.take(10).backing).not.toBe(read.backing);
  });

  it('never recycles bytes handed out as a stream', async () => {
    const pool = new BufferPool(128 * 1024, { minPooledBytes: 1, maxIdle: 4 });
    const read = pool.take(5);
    read.bytes.write('hello');
    const blob = new BufferedBlob({ ...read, pool }, 5, 'sha', 0, 4);
    const stream = blob.stream;
    blob.release();
    pool.take(5).bytes.write('XXXXX');
    expect((await buffer(stream)).toString()).toBe('hello');
  });
});
