import { existsSync, readFileSync, truncateSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testClusterSecret, type NodeProcess, type TestCluster } from '../../../test-support/cluster.js';
import { flipByte } from '../../../test-support/files.js';
import { sha256 } from '../../../test-support/fixtures.js';
import { call, copies, findFiles, queryIndex, uploadReadyPhotos, waitFor } from './support.js';

const PHOTOS = ['photo-small-flower-1600x1203.jpg', 'png-alpha.png', 'jpeg-exif-gps.jpg'];
const VARIANTS = ['thumb', 'small', 'webp'];

/** The blob file of `key` on a node's disk (not its sidecar, not a variant's). */
function blobFile(node: NodeProcess, key: string): string | undefined {
  return findFiles(join(node.dataDir, 'blobs'), key).find((path) => basename(path) === key);
}

/** The SHA-256 of every blob (originals and variants) as the gateway's index records it. */
function recordedDigests(cluster: TestCluster): Map<string, string> {
  const dir = cluster.gateway.dataDir;
  const originals = queryIndex<{ id: string; sha256: string }>(dir, 'SELECT id, sha256 FROM files');
  const variants = queryIndex<{ file_id: string; name: string; sha256: string }>(
    dir,
    'SELECT file_id, name, sha256 FROM variants',
  );
  return new Map([
    ...originals.map((row) => [row.id, row.sha256] as const),
    ...variants.map((row) => [`${row.file_id}.${row.name}`, row.sha256] as const),
  ]);
}

describe('a corrupt copy on a node', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // Passes back to back, so the test need not wait an hour for the next.
    cluster = await startCluster({ nodes: 4, node: { scrubIntervalMs: 200 } });
  });
  afterAll(() => cluster?.close());

  it('is quarantined by its node, reported, and made again from a good copy', async () => {
    const files = await uploadReadyPhotos(cluster, PHOTOS, 100);
    const digests = recordedDigests(cluster);
    expect(digests.size).toBe(files.length * (1 + VARIANTS.length));
    const nodeById = new Map(cluster.nodes.map((node) => [node.nodeId, node]));
    const holders = (key: string) =>
      copies(cluster)
        .filter((copy) => copy.blob_key === key && copy.state === 'durable')
        .map((copy) => nodeById.get(copy.node_id)!);

    // Bit rot in one copy of an original, a truncated copy of a variant on another node.
    const original = files[0]!.id;
    const variant = `${files[1]!.id}.thumb`;
    const rotten = holders(original)[0]!;
    const truncated = holders(variant).find((node) => node !== rotten)!;
    const rottenPath = blobFile(rotten, original)!;
    const truncatedPath = blobFile(truncated, variant)!;
    flipByte(rottenPath, 1000);
    truncateSync(truncatedPath, Math.floor(readFileSync(truncatedPath).length / 2));
    const rottenBytes = readFileSync(rottenPath);
    const truncatedBytes = readFileSync(truncatedPath);

    const quarantined = (node: NodeProcess, key: string) => join(node.dataDir, 'quarantine', key);
    // Every copy the index counts is on disk with the right bytes, 3 of each blob.
    const allCopiesGood = () =>
      [...digests].every(([key, digest]) => {
        const nodes = holders(key);
        return (
          nodes.length === 3 &&
          nodes.every((node) => {
            const path = blobFile(node, key);
            return path !== undefined && sha256(readFileSync(path)) === digest;
          })
        );
      });
    await waitFor(
      () => existsSync(quarantined(rotten, original)) && existsSync(quarantined(truncated, variant)) && allCopiesGood(),
      'the corrupt copies to be quarantined and made again from good ones',
      30_000,
    );
    expect(readFileSync(quarantined(rotten, original))).toEqual(rottenBytes);
    expect(readFileSync(quarantined(truncated, variant))).toEqual(truncatedBytes);

    for (const file of files) {
      const download = await call(file.url);
      expect(download.status).toBe(200);
      expect(sha256(download.body)).toBe(file.sha);
      for (const name of VARIANTS) {
        const served = await call(`${cluster.gateway.url}/v1/files/${file.id}/variants/${name}`);
        expect(served.status).toBe(200);
        expect(sha256(served.body)).toBe(digests.get(`${file.id}.${name}`));
      }
    }
    const stats = await call(`${rotten.url}/stats`, { headers: { authorization: `Bearer ${testClusterSecret}` } });
    const scrub = stats.json.scrub;
    expect(scrub).toMatchObject({ corrupt: 1, lastPassAt: expect.any(String) });
  });
});
