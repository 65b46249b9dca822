import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import type { WorkerStore } from '../src/workers/worker-store.js';
import { call, queryIndex, uploadBytes } from './support.js';

const THUMB = {
  name: 'thumb',
  contentType: 'image/webp',
  width: 256,
  height: 160,
  size: 9214,
  sha256: 'a'.repeat(64),
};

/**
 * The contract every `WorkerStore` must pass, against a real gateway whose
 * sweeper and image workers are idle (so what the store records stays put
 * to be looked at): the SQLite store on the gateway's host, and the
 * gateway's internal API from anywhere else must behave alike.
 */
export function workerStoreContract(name: string, cluster: () => TestCluster, store: () => WorkerStore): void {
  describe(`WorkerStore contract: ${name}`, () => {
    const upload = async (file = 'jpeg-progressive.jpg'): Promise<string> => {
      const reply = await uploadBytes(cluster().gateway.url, fixtureBytes(file));
      expect(reply.status).toBe(201);
      return reply.json.id as string;
    };
    const pendingDeletes = (key: string) =>
      queryIndex<{ node_id: string; not_before: number }>(
        cluster().gateway.dataDir,
        'SELECT node_id, not_before FROM pending_blob_deletes WHERE blob_key = ? ORDER BY node_id',
        key,
      );
    const publicInfo = async (id: string) => (await call(`${cluster().gateway.url}/v1/files/${id}`)).json;

    it('lists the storage nodes with their addresses and stats', async () => {
      const nodes = await store().listNodes();
      expect(nodes.map((node) => node.id).sort()).toEqual(
        cluster()
          .nodes.map((node) => node.nodeId)
          .sort(),
      );
      for (const node of nodes) {
        expect(cluster().nodes.find((n) => n.nodeId === node.id)!.url).toBe(node.url);
        expect(node.stats.totalBytes).toBeGreaterThan(0);
        expect(node.lastSeen).toBeGreaterThan(0);
      }
    });

    it('reads a file and the nodes of its original; an unknown file is undefined', async () => {
      const id = await upload();
      const file = await store().getFile(id);
      expect(file).toMatchObject({ id, status: 'processing', replicasWanted: 3, width: 1280, height: 800 });
      const holders = await store().replicaNodes(id);
      expect(holders.sort()).toEqual(
        cluster()
          .nodes.map((node) => node.nodeId)
          .sort(),
      );
      expect(await store().getFile(randomUUID())).toBeUndefined();
      expect(await store().replicaNodes(`${randomUUID()}.thumb`)).toEqual([]);
    });

    it('records an intent, then the variants clear it and make the file ready', async () => {
      const id = await upload();
      const [first, second] = cluster().nodes.map((node) => node.nodeId);
      const before = Date.now();
      await store().recordUploadIntent(`${id}.thumb`, [first!, second!], before + 3600_000);
      const intents = pendingDeletes(`${id}.thumb`);
      expect(intents.map((row) => row.node_id)).toEqual([first, second].sort());
      for (const row of intents) expect(row.not_before).toBeGreaterThan(before + 3500_000);

      expect(await store().recordVariants(id, [{ variant: THUMB, nodeIds: [first!, second!] }], Date.now())).toBe(true);
      expect(pendingDeletes(`${id}.thumb`)).toEqual([]);
      expect((await store().replicaNodes(`${id}.thumb`)).sort()).toEqual([first, second].sort());
      const info = await publicInfo(id);
      expect(info.status).toBe('ready');
      expect(info.variants.thumb).toMatchObject({ width: 256, height: 160, size: 9214, contentType: 'image/webp' });
      expect((await store().getFile(id))!.status).toBe('ready');
    });

    it('records no variants for a file that is gone', async () => {
      expect(await store().recordVariants(randomUUID(), [{ variant: THUMB, nodeIds: ['n1'] }], Date.now())).toBe(false);
    });

    it('marks a file failed with its reason', async () => {
      const id = await upload();
      await store().markFailed(id, 'the image could not be decoded');
      expect(await publicInfo(id)).toMatchObject({ status: 'failed', statusReason: 'the image could not be decoded' });
      expect((await store().getFile(id))!.status).toBe('failed');
    });

    it('queues blob deletes that are due now', async () => {
      const key = `${randomUUID()}.small`;
      const nodeId = cluster().nodes[0]!.nodeId;
      await store().queueBlobDeletes([{ nodeId, key }], Date.now());
      const rows = pendingDeletes(key);
      expect(rows.map((row) => row.node_id)).toEqual([nodeId]);
      expect(rows[0]!.not_before).toBeLessThanOrEqual(Date.now());
    });
  });
}
