import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type NodeProcess, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { call, indexCopies, findFiles, uploadBytes, uploadReadyPhotos, waitFor } from './support.js';

const PHOTOS = ['photo-small-flower-1600x1203.jpg', 'png-alpha.png', 'jpeg-exif-gps.jpg'];

function restart(cluster: TestCluster, node: NodeProcess): Promise<NodeProcess> {
  return cluster.startNode({ dataDir: node.dataDir, port: Number(new URL(node.url).port) });
}

describe.each(ENGINES)('a node that stays down (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 4, engine, gateway: { repairAfter: '1' } });
  });
  afterAll(() => cluster?.close());

  it('has its copies of originals and variants made again on the others, and forgotten when it returns', async () => {
    const files = await uploadReadyPhotos(cluster, PHOTOS, 100);
    const before = await indexCopies(cluster);
    const blobKeys = new Set(before.map((copy) => copy.blob_key));
    expect(blobKeys.size).toBe(files.length * 4);
    // The node holding the most copies dies for good (as far as the gateway can tell).
    const perNode = (nodeId: string) => before.filter((copy) => copy.node_id === nodeId).length;
    const victim = [...cluster.nodes].sort((a, b) => perNode(b.nodeId) - perNode(a.nodeId))[0]!;
    const itsBlobs = before.filter((copy) => copy.node_id === victim.nodeId);
    expect(itsBlobs.length).toBeGreaterThan(0);
    await victim.kill('SIGKILL');

    // Every blob back at 3 confirmed copies, none on the dead node.
    await waitFor(
      async () => {
        const now = await indexCopies(cluster);
        if (now.some((copy) => copy.node_id === victim.nodeId)) return false;
        return [...blobKeys].every(
          (key) => now.filter((copy) => copy.blob_key === key && copy.state === 'durable').length === 3,
        );
      },
      'every blob to be back at 3 copies on the live nodes',
      30_000,
    );
    const repaired = await indexCopies(cluster);
    for (const key of blobKeys) {
      const holders = repaired.filter((copy) => copy.blob_key === key);
      expect(new Set(holders.map((copy) => copy.node_id)).size).toBe(3);
    }
    for (const file of files) {
      const down = await call(file.url);
      expect(sha256(down.body)).toBe(file.sha);
      for (const variant of ['thumb', 'small', 'webp']) {
        expect((await call(`${cluster.gateway.url}/v1/files/${file.id}/variants/${variant}`)).status).toBe(200);
      }
    }

    // It comes back with copies nobody counts any more: they are deleted from its disk.
    const returned = await restart(cluster, victim);
    await waitFor(
      () => itsBlobs.every((copy) => findFiles(returned.dataDir, copy.blob_key).length === 0),
      'the stale copies to be removed from the returning node',
    );
    for (const file of files) expect(sha256((await call(file.url)).body)).toBe(file.sha);
  });
});

// One engine only (LEGIM_TEST_ENGINE, default SQLite): it mostly waits (8 s of repair passes) for nothing to
// happen; the repair itself is checked on both engines above.
describe('a node that stays down when no other node can take its copies', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, gateway: { repairAfter: '1' } });
  });
  afterAll(() => cluster?.close());

  it('keeps counting its copies: nothing is forgotten that is not at full strength elsewhere', async () => {
    const files = await uploadReadyPhotos(cluster, PHOTOS, 100);
    const before = await indexCopies(cluster);
    const victim = cluster.nodes[0]!;
    await victim.kill('SIGKILL');
    // Lost after 1 s, and several repair passes (every 5 s) later still nothing was dropped.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    expect((await indexCopies(cluster)).filter((copy) => copy.node_id === victim.nodeId)).toEqual(
      before.filter((copy) => copy.node_id === victim.nodeId),
    );
    await restart(cluster, victim);
    await cluster.waitForNodes(3);
    for (const file of files) expect(sha256((await call(file.url)).body)).toBe(file.sha);
    expect(await indexCopies(cluster)).toHaveLength(before.length);
  });
});

describe.each(ENGINES)('an upload made while a node was down (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3, engine });
  });
  afterAll(() => cluster?.close());

  it('gets its missing copy once the node is back', async () => {
    const victim = cluster.nodes[2]!;
    await victim.kill('SIGKILL');
    const bytes = fixtureBytes('photo-small-flower-1600x1203.jpg');
    await waitFor(async () => (await uploadBytes(cluster.gateway.url, bytes)).status === 201, 'an upload with 2 nodes');
    const up = await uploadBytes(cluster.gateway.url, bytes);
    expect(up.json.replicas).toBe(2);
    const returned = await restart(cluster, victim);
    await waitFor(
      async () =>
        (await indexCopies(cluster)).filter((copy) => copy.blob_key === up.json.id && copy.state === 'durable')
          .length === 3,
      'the third copy',
      20_000,
    );
    expect(findFiles(returned.dataDir, up.json.id).length).toBeGreaterThan(0);
  });
});
