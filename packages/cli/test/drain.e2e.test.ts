import { join } from 'node:path';
import { Legim } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';
import { hasStack, lines, runCli, sandbox, startLongRunning, stop, type Running, type Sandbox } from './helpers.js';

/**
 * `legim drain` and `legim node start`'s SIGTERM, with the built binary: a
 * real gateway, three node processes, and storage nodes run by the CLI.
 */
describe('draining storage nodes from the command line', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  let sdk: Legim;
  const legim = (args: string[]) =>
    runCli(['--server', cluster.gateway.url, ...args], {
      env: { ...box.env, LEGIM_API_KEY: testAdminKey },
      cwd: box.dir,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    box = sandbox();
    sdk = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
  });

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  /** `legim node start` under the gateway, as an operator runs it. */
  async function startCliNode(name: string): Promise<{ running: Running; nodeId: string }> {
    const running = await startLongRunning(
      [
        'node',
        'start',
        '--json',
        '--port',
        '0',
        '--heartbeat-ms',
        '200',
        '--data',
        join(box.dir, name),
        '--parent',
        cluster.gateway.url,
      ],
      { ...box.env, LEGIM_CLUSTER_SECRET: testClusterSecret },
    );
    const nodeId = running.ready.nodeId as string;
    await waitFor(
      async () => (await sdk.cluster()).nodes.some((node) => node.id === nodeId && node.status === 'up'),
      'the node to join',
    );
    return { running, nodeId };
  }

  /** Uploads files until `nodeId` holds at least one; every file allows many downloads. */
  async function filesOn(nodeId: string): Promise<{ id: string; sha: string }[]> {
    const files = [];
    for (let i = 0; i < 6; i++) {
      const bytes = fixtureBytes('png-alpha.png');
      const file = await sdk.upload(bytes, { downloads: 50 });
      files.push({ id: file.id, sha: sha256(bytes) });
    }
    await waitFor(
      async () => ((await sdk.cluster()).nodes.find((node) => node.id === nodeId)?.files ?? 0) > 0,
      'a file on the node',
    );
    return files;
  }

  async function expectAllDownloadable(files: { id: string; sha: string }[]): Promise<void> {
    for (const file of files) {
      const download = await sdk.download(file.id);
      const chunks: Buffer[] = [];
      for await (const chunk of download.stream) chunks.push(chunk as Buffer);
      expect(sha256(Buffer.concat(chunks))).toBe(file.sha);
    }
  }

  it('legim drain waits until the node is removed; the node process then stops by itself', async () => {
    const { running, nodeId } = await startCliNode('drained-by-command');
    const files = await filesOn(nodeId);

    const result = await legim(['drain', nodeId]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Draining ${nodeId}: copying their blobs to other nodes`);
    expect(result.stdout).toContain(`✔ ${nodeId} drained and removed`);
    expect((await sdk.cluster()).nodes.map((node) => node.id)).not.toContain(nodeId);

    expect(await running.exited).toEqual({ code: 0, signal: null });
    await expectAllDownloadable(files);
  });

  it('SIGTERM drains a node before it exits; Ctrl-C would not', async () => {
    const { running, nodeId } = await startCliNode('drained-by-sigterm');
    const files = await filesOn(nodeId);

    expect(await stop(running, 'SIGTERM', 60_000)).toEqual({ code: 0, signal: null });
    expect(running.stderrLines.join('\n')).toMatch(new RegExp(`draining node ${nodeId}`));
    expect((await sdk.cluster()).nodes.map((node) => node.id)).not.toContain(nodeId);
    await expectAllDownloadable(files);

    // Ctrl-C only stops it: it stays a member, down, and its copies are still counted.
    const stopped = await startCliNode('stopped-by-ctrl-c');
    expect(await stop(stopped.running, 'SIGINT')).toEqual({ code: 0, signal: null });
    expect(stopped.running.stderrLines.join('\n')).not.toMatch(/draining/);
    await waitFor(async () => {
      const member = (await sdk.cluster()).nodes.find((node) => node.id === stopped.nodeId);
      return member?.membership === 'active' && member.status === 'down';
    }, 'the stopped node to count as down, still a member');
  });

  it('a drain that cannot happen is one red line and exit 1', async () => {
    // Three nodes left for three copies: none can go.
    const refused = await legim(['drain', cluster.nodes[0]!.nodeId]);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual([expect.stringMatching(/add a node first/)]);
    expect(hasStack(refused.stderr)).toBe(false);

    const unknown = await legim(['drain', 'n-nobody']);
    expect(unknown.code).toBe(1);
    expect(lines(unknown.stderr)).toEqual([expect.stringMatching(/no node n-nobody/)]);
  });
});
