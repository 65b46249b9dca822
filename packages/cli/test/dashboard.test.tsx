import { setTimeout as sleep } from 'node:timers/promises';
import { Legim } from '@legim/sdk';
import { cleanup, render } from 'ink-testing-library';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture } from '../../../test-support/fixtures.js';
import { Dashboard } from '../src/dashboard/Dashboard.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';

/** Polls the last frame until `check` holds, and returns it. */
async function frameWhere(
  lastFrame: () => string | undefined,
  check: (frame: string) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const frame = lastFrame() ?? '';
    if (check(frame)) return frame;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the last frame was:\n${frame}`);
    await sleep(50);
  }
}

/** The line of the node tree that names a node. */
const nodeLine = (frame: string, nodeId: string): string =>
  frame.split('\n').find((line) => line.includes(`─ ${nodeId} `)) ?? '';

/**
 * The Ink dashboard, rendered with ink-testing-library, against a real
 * gateway and storage node processes: nothing in Legim is replaced.
 */
describe('the dashboard', () => {
  let cluster: TestCluster;
  let legim: Legim;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
    legim = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
  });

  afterEach(() => cleanup());
  afterAll(async () => {
    await cluster?.close();
  });

  it('shows the gateway, its health and the node tree with statuses', async () => {
    const { lastFrame } = render(<Dashboard legim={legim} intervalMs={200} />);
    const view = await legim.cluster();
    const frame = await frameWhere(
      lastFrame,
      // The latency shows once the gateway has probed each node.
      (f) => cluster.nodes.every((node) => /\bup\s+[\d.]+ ms\s/.test(nodeLine(f, node.nodeId))),
      'both nodes up in the tree, with their latencies',
    );
    expect(frame).toContain(cluster.gateway.url);
    expect(frame).toMatch(/● (ok|degraded)/);
    expect(frame).toMatch(/counter sqlite/);
    expect(frame).toContain(`gateway ${view.gateway.id}`);
    for (const node of cluster.nodes) {
      expect(nodeLine(frame, node.nodeId)).toMatch(/\bup\s+[\d.]+ ms\s+[█░]{10}\s+.+ \/ .+\s+\d+ files?\s/);
      expect(nodeLine(frame, node.nodeId)).toContain(node.url);
    }
    expect(frame).not.toMatch(/reconnecting/);
  });

  it('logs a node that joins and an upload, and counts the upload in the stats', async () => {
    const { lastFrame } = render(<Dashboard legim={legim} intervalMs={200} />);
    await frameWhere(lastFrame, (f) => /live\s+\d+/.test(f), 'the first stats');
    const before = await legim.stats();

    // A join shows in the log once the event stream is open, so the upload after it cannot be missed.
    const joined = await cluster.startNode();
    await frameWhere(
      lastFrame,
      (f) => f.includes(`joined     ${joined.nodeId}`) && /\bup\b/.test(nodeLine(f, joined.nodeId)),
      'the new node in the log and up in the tree',
    );

    const file = await legim.upload(fixture(PHOTO), { downloads: 2 });
    const frame = await frameWhere(
      lastFrame,
      (f) => f.includes(`uploaded   ${file.id}`) && new RegExp(`uploads\\s+${before.traffic.uploads + 1}\\s`).test(f),
      'the upload in the event log and the traffic panel',
    );
    expect(frame).toMatch(new RegExp(`uploaded\\s+${file.id}\\s+[\\d.]+ [kM]?B image/jpeg`));
    expect(frame).toMatch(new RegExp(`live\\s+${before.files.live + 1}\\s`));
    // The upload's rate shows for one refresh, then reads 0.0/s again: either way a rate is shown.
    expect(frame).toMatch(/uploads\s+\d+\s+[\d.]+\/s/);

    const download = await legim.download(file.id);
    for await (const _chunk of download.stream); // read it all: the event comes once the bytes are sent
    await frameWhere(
      lastFrame,
      (f) => new RegExp(`downloaded\\s+${file.id}\\s+[\\d.]+ [kM]?B, 1 left`).test(f),
      'the download in the event log',
    );
  });

  it('keeps the last data and says "reconnecting" while the gateway is gone, then recovers', async () => {
    const { lastFrame, frames } = render(<Dashboard legim={legim} intervalMs={200} />);
    const nodeIds = cluster.nodes.map((node) => node.nodeId);
    await frameWhere(lastFrame, (f) => nodeIds.every((id) => nodeLine(f, id) !== ''), 'the nodes');

    await cluster.gateway.close();
    const outage = await frameWhere(lastFrame, (f) => f.includes('reconnecting…'), 'the reconnecting line');
    for (const id of nodeIds) expect(nodeLine(outage, id)).not.toBe('');
    expect(outage).toMatch(/live\s+\d+/);

    await cluster.restartGateway();
    const framesBefore = frames.length;
    await frameWhere(
      lastFrame,
      (f) => !f.includes('reconnecting') && nodeIds.every((id) => /\bup\b/.test(nodeLine(f, id))),
      'the dashboard live again',
    );
    expect(frames.length).toBeGreaterThan(framesBefore);
  });
});
