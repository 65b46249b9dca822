import { basename } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Legim, type LegimEvent } from '@legim/sdk';
import { startCluster, testAdminKey, type NodeProcess, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { ENGINES } from '../../../test-support/test-database.js';
import {
  admin,
  allFiles,
  call,
  indexCopies,
  queryIndex,
  uploadBytes,
  uploadReadyPhotos,
  waitFor,
  type UploadedPhoto,
} from './support.js';

interface ClusterNodeView {
  id: string;
  parentId: string | null;
  membership: string;
}

const PHOTOS = ['photo-small-flower-1600x1203.jpg', 'png-alpha.png', 'jpeg-exif-gps.jpg', 'gif-animated-8-frames.gif'];

async function clusterNodes(cluster: TestCluster): Promise<ClusterNodeView[]> {
  return (await call(`${cluster.gateway.url}/v1/cluster`, { headers: admin })).json.nodes as ClusterNodeView[];
}

function drain(cluster: TestCluster, nodeId: string, headers: Record<string, string> = admin) {
  return call(`${cluster.gateway.url}/v1/cluster/nodes/${encodeURIComponent(nodeId)}/drain`, {
    method: 'POST',
    headers,
  });
}

/** Blob files left in a node's data folder (its identity file aside). */
function blobFilesOn(node: NodeProcess): string[] {
  return allFiles(node.dataDir).filter((path) => basename(path) !== 'node.json');
}

/**
 * Downloads every file over and over until stopped, checking every body: a
 * drain must never make a download fail or serve wrong bytes.
 */
function keepDownloading(files: UploadedPhoto[]): { stop: () => Promise<{ ok: number; failures: string[] }> } {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const loop = (async () => {
    // Each file allows 1000 downloads.
    for (let round = 0; running && round < 900; round++) {
      for (const file of files) {
        const reply = await call(file.url).catch((error: Error) => ({ status: 0, body: Buffer.from(error.message) }));
        if (reply.status === 200 && sha256(reply.body) === file.sha) ok++;
        else failures.push(`${file.id}: ${reply.status} ${reply.body.toString('utf8', 0, 200)}`);
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { ok, failures };
    },
  };
}

/** The drain events of the gateway's event stream, as they come. */
/** Resolves once the gateway streams events to the subscription, so none emitted after is missed. */
async function collectDrainEvents(cluster: TestCluster, signal: AbortSignal): Promise<LegimEvent[]> {
  const seen: LegimEvent[] = [];
  const legim = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
  void (async () => {
    for await (const event of legim.events({ signal })) {
      if (event.type === 'node.draining' || event.type === 'node.removed') seen.push(event);
    }
  })();
  await waitFor(async () => {
    const metrics = (await call(`${cluster.gateway.url}/metrics`, { headers: admin })).body.toString();
    return Number(/^legim_event_subscribers (\d+)$/m.exec(metrics)?.[1]) >= 1;
  }, 'the event stream to be open');
  return seen;
}

/** Every blob at 3 durable copies on 3 distinct nodes, none of them in `gone`. */
async function fullyReplicatedWithout(
  cluster: TestCluster,
  blobKeys: Set<string>,
  gone: Set<string>,
): Promise<boolean> {
  const now = await indexCopies(cluster);
  if (now.some((copy) => gone.has(copy.node_id))) return false;
  return [...blobKeys].every((key) => {
    const holders = now.filter((copy) => copy.blob_key === key && copy.state === 'durable');
    return holders.length === 3 && new Set(holders.map((copy) => copy.node_id)).size === 3;
  });
}

describe.each(ENGINES)('draining a leaf node (%s index)', (engine) => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 4, engine });
  });
  afterAll(() => cluster?.close());

  it('copies its blobs elsewhere while downloads go on, then removes it and stops it', async () => {
    const files = await uploadReadyPhotos(cluster, PHOTOS, 1000);
    const before = await indexCopies(cluster);
    const blobKeys = new Set(before.map((copy) => copy.blob_key));
    expect(blobKeys.size).toBe(files.length * 4);
    const perNode = (nodeId: string) => before.filter((copy) => copy.node_id === nodeId).length;
    const leaving = [...cluster.nodes].sort((a, b) => perNode(b.nodeId) - perNode(a.nodeId))[0]!;
    expect(perNode(leaving.nodeId)).toBeGreaterThan(0);
    expect(blobFilesOn(leaving).length).toBeGreaterThan(0);

    const downloads = keepDownloading(files);
    const watching = new AbortController();
    const drainEvents = await collectDrainEvents(cluster, watching.signal);
    const started = await drain(cluster, leaving.nodeId);
    expect(started.status).toBe(202);
    expect(started.json).toEqual({ nodeId: leaving.nodeId, draining: [leaving.nodeId] });

    // While it drains, new uploads go elsewhere.
    const during = await uploadBytes(cluster.gateway.url, fixtureBytes('png-alpha.png'), { downloads: 5 });
    expect(during.status).toBe(201);
    expect(
      (await indexCopies(cluster)).filter((copy) => copy.blob_key === during.json.id).map((copy) => copy.node_id),
    ).not.toContain(leaving.nodeId);

    // Removed: gone from the cluster, the process stopped by itself, nothing left on its disk.
    await leaving.exited;
    await waitFor(
      async () => !(await clusterNodes(cluster)).some((node) => node.id === leaving.nodeId),
      'the drained node to leave the cluster',
    );
    await waitFor(() => drainEvents.some((event) => event.type === 'node.removed'), 'the node.removed event');
    watching.abort();
    expect(drainEvents.map(({ at: _at, ...event }) => event)).toEqual([
      { type: 'node.draining', nodeId: leaving.nodeId, draining: [leaving.nodeId] },
      { type: 'node.removed', nodeId: leaving.nodeId },
    ]);
    const { ok, failures } = await downloads.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(files.length);
    expect(await fullyReplicatedWithout(cluster, blobKeys, new Set([leaving.nodeId]))).toBe(true);
    expect(blobFilesOn(leaving)).toEqual([]);
    for (const file of files) {
      for (const variant of ['thumb', 'small', 'webp']) {
        expect((await call(`${cluster.gateway.url}/v1/files/${file.id}/variants/${variant}`)).status).toBe(200);
      }
    }
    expect(
      await queryIndex<{ membership: string }>(cluster, 'SELECT membership FROM nodes WHERE id = ?', leaving.nodeId),
    ).toEqual([{ membership: 'removed' }]);

    // The same node restarted (a new process) is taken back as a member.
    const back = await cluster.startNode({ dataDir: leaving.dataDir });
    expect(back.nodeId).toBe(leaving.nodeId);
    await waitFor(
      async () =>
        (await clusterNodes(cluster)).some((node) => node.id === leaving.nodeId && node.membership === 'active'),
      'the restarted node to be a member again',
    );
  });

  it('refuses what it cannot do, with a clear error', async () => {
    const unknown = await drain(cluster, 'n-nobody');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe('NODE_NOT_FOUND');

    const anonymous = await drain(cluster, cluster.nodes[0]!.nodeId, {});
    expect(anonymous.status).toBe(401);

    const bad = await call(`${cluster.gateway.url}/drain`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ nodeId: cluster.nodes[0]!.nodeId }),
    });
    expect(bad.status).toBe(401);
  });
});

// One engine only (LEGIM_TEST_ENGINE, default SQLite): this is the slowest drain test (~16 s), and what it adds
// over the leaf drain above, which runs on both engines, is placement in the tree, not how the index keeps it.
describe('draining a branch of the tree', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // Three clusters under the gateway (a, b, c); c has two leaves.
    cluster = await startCluster({ nodes: 3 });
    const c = cluster.nodes[2]!;
    await cluster.startNode({ parentUrl: c.url });
    await cluster.startNode({ parentUrl: c.url });
    await cluster.waitForNodes(5);
    await waitFor(
      async () => (await clusterNodes(cluster)).filter((node) => node.parentId === c.nodeId).length === 2,
      'the leaves under c',
    );
  });
  afterAll(() => cluster?.close());

  it('keeps a leaving leaf’s copies in its branch, refuses to leave too few nodes, and drains children first', async () => {
    const [a, b, c, ...leaves] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess, NodeProcess, NodeProcess];
    const branch = new Set([c.nodeId, ...leaves.map((leaf) => leaf.nodeId)]);
    const files = await uploadReadyPhotos(cluster, PHOTOS, 1000);
    const before = await indexCopies(cluster);
    const blobKeys = new Set(before.map((copy) => copy.blob_key));
    // The leaf holding more copies leaves first: the more copies move, the more the test says.
    const held = (node: NodeProcess) => before.filter((copy) => copy.node_id === node.nodeId).length;
    const [leaf1, leaf2] = leaves.sort((x, y) => held(y) - held(x)) as [NodeProcess, NodeProcess];
    // One copy in each failure domain: a, b, and the c branch.
    for (const key of blobKeys) {
      const holders = before.filter((copy) => copy.blob_key === key);
      expect(holders.filter((copy) => branch.has(copy.node_id))).toHaveLength(1);
    }

    // Draining c would take its leaves along and leave 2 nodes for 3 copies.
    const refused = await drain(cluster, c.nodeId);
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: 'CANNOT_DRAIN', message: expect.stringMatching(/add a node/) });
    expect((await clusterNodes(cluster)).every((node) => node.membership === 'active')).toBe(true);

    // A fourth cluster joins; then a leaf leaves: its copies flow back into its branch (its parent or
    // its sibling), although d would keep the domains apart just as well.
    const d = await cluster.startNode();
    await cluster.waitForNodes(6);
    const onLeaf1 = (await indexCopies(cluster))
      .filter((copy) => copy.node_id === leaf1.nodeId)
      .map((copy) => copy.blob_key);
    expect(onLeaf1.length).toBeGreaterThan(0);
    expect((await drain(cluster, leaf1.nodeId)).status).toBe(202);
    await leaf1.exited;
    await waitFor(() => fullyReplicatedWithout(cluster, blobKeys, new Set([leaf1.nodeId])), 'the leaf to drain');
    const afterLeaf1 = await indexCopies(cluster);
    for (const key of onLeaf1) {
      const holders = afterLeaf1.filter((copy) => copy.blob_key === key);
      expect(holders.filter((copy) => branch.has(copy.node_id))).toHaveLength(1);
      expect(holders.map((copy) => copy.node_id)).not.toContain(d.nodeId);
    }

    // c drains with its remaining child; the child is removed first.
    const started = await drain(cluster, c.nodeId);
    expect(started.status).toBe(202);
    expect(started.json.draining).toEqual([leaf2.nodeId, c.nodeId]);
    const seen: string[][] = [];
    await waitFor(async () => {
      const ids = (await clusterNodes(cluster)).map((node) => node.id);
      seen.push(ids);
      return !ids.includes(c.nodeId) && !ids.includes(leaf2.nodeId);
    }, 'the branch to drain');
    // Never c gone while its child was still there.
    expect(seen.some((ids) => !ids.includes(c.nodeId) && ids.includes(leaf2.nodeId))).toBe(false);
    await Promise.all([c.exited, leaf2.exited]);
    const gone = new Set([c.nodeId, leaf1.nodeId, leaf2.nodeId]);
    expect(await fullyReplicatedWithout(cluster, blobKeys, gone)).toBe(true);
    expect(new Set((await indexCopies(cluster)).map((copy) => copy.node_id))).toEqual(
      new Set([a.nodeId, b.nodeId, d.nodeId]),
    );
    for (const file of files) expect(sha256((await call(file.url)).body)).toBe(file.sha);
  });
});
