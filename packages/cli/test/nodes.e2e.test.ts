import { Legim, type ClusterView, type Stats } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';
import { formatBytes } from '../src/output.js';
import { hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `legim nodes` and `legim stats` with the built binary against a real gateway and three storage node processes. */
describe('legim nodes and legim stats', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  let sdk: Legim;
  const legim = (args: string[], env: NodeJS.ProcessEnv = { ...box.env, LEGIM_API_KEY: testAdminKey }) =>
    runCli(['--server', cluster.gateway.url, ...args], { env, cwd: box.dir });

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    box = sandbox();
    sdk = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
  });

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  /** The line of one node: the branch glyphs, its id, its URL and its status. */
  const nodeLine = (stdout: string, nodeId: string): string | undefined =>
    stdout.split('\n').find((line) => line.includes(` ${nodeId} `));

  it('draws every node under the gateway, up, with its address, latency, disk and files', async () => {
    const { code, stdout, stderr } = await legim(['nodes']);
    expect(code, stderr).toBe(0);
    expect(stderr).toBe('');
    const output = stdout.trimEnd().split('\n');
    const view = await sdk.cluster();
    expect(output[0]).toBe(`gateway ${view.gateway.id}  ${cluster.gateway.url}`);
    expect(output).toHaveLength(1 + 3 + 2);
    const ids = cluster.nodes.map((node) => node.nodeId).sort();
    // Siblings by id; the last one closes the branch.
    expect(output.slice(1, 4).map((line) => line.split(/\s+/).slice(0, 2))).toEqual([
      ['├─', ids[0]],
      ['├─', ids[1]],
      ['└─', ids[2]],
    ]);
    for (const node of cluster.nodes) {
      const line = nodeLine(stdout, node.nodeId)!;
      expect(line).toMatch(
        new RegExp(
          `${node.nodeId}\\s+${node.url}\\s+up\\s+(\\d+(\\.\\d)? ms|–)\\s+[█░]{10}\\s+[\\d.]+ [kMGT]?B / [\\d.]+ [kMGT]?B\\s+\\d+ files?\\s+seen `,
        ),
      );
    }
    expect(output[4]).toBe('3 storage nodes: 3 up');
    // The three test nodes store in one temporary folder's filesystem: its size once, not three times.
    const disk = view.nodes[0]!.stats.filesystem!;
    expect(view.nodes.map((node) => node.stats.filesystem?.id)).toEqual([disk.id, disk.id, disk.id]);
    expect(output[5]).toMatch(
      new RegExp(
        `^capacity: [\\d.]+ [kMG]?B used of ${escape(formatBytes(disk.totalBytes))} \\([\\d.]+ [kMGT]?B free\\) on one filesystem, shared by 3 nodes and counted once$`,
      ),
    );
  });

  it('--json prints the cluster view of the API', async () => {
    const { code, stdout, stderr } = await legim(['nodes', '--json']);
    expect(code, stderr).toBe(0);
    const printed = JSON.parse(stdout) as ClusterView;
    const view = await sdk.cluster();
    expect(printed.gateway).toEqual(view.gateway);
    expect(printed.nodes.map((node) => [node.id, node.url, node.parentId, node.status]).sort()).toEqual(
      cluster.nodes.map((node) => [node.nodeId, node.url, null, 'up']).sort(),
    );
    for (const node of printed.nodes) {
      expect(node.stats).toMatchObject({ usedBytes: expect.any(Number), totalBytes: expect.any(Number) });
    }
  });

  it('stats prints the numbers once; --json is the stats object of the API', async () => {
    const file = await sdk.upload(fixture('photo-camera-exif-dune-1680x1050.jpg'));
    const json = await legim(['stats', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const stats = JSON.parse(json.stdout) as Stats;
    expect(stats.files.live).toBe(1);
    expect(stats.files.bytes).toBe(file.size);
    expect(stats.traffic).toMatchObject({ uploads: 1, uploadBytes: file.size });
    expect(stats.nodes).toMatchObject({ up: 3, down: 0 });
    // Capacity counted once per filesystem: the one disk the three nodes share, not three times it.
    const view = await sdk.cluster();
    const disk = view.nodes[0]!.stats.filesystem!;
    expect(stats.nodes.filesystems).toEqual([
      {
        id: disk.id,
        nodeIds: view.nodes.map((node) => node.id).sort(),
        usedBytes: expect.any(Number),
        freeBytes: expect.any(Number),
        totalBytes: disk.totalBytes,
      },
    ]);
    expect(stats.nodes.totalBytes).toBe(disk.totalBytes);
    expect(stats.nodes.freeBytes).toBeLessThanOrEqual(disk.totalBytes);
    expect(stats.nodes.usedBytes).toBe(view.nodes.reduce((sum, node) => sum + node.stats.usedBytes, 0));
    expect(stats.jobs.backend).toBe('sqlite');

    const human = await legim(['stats']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toBe('');
    expect(human.stdout).toMatch(/^\s+files\s+1 live \([\d.]+ [kM]?B\): \d processing, 0 failed$/m);
    expect(human.stdout).toMatch(/^\s+traffic\s+since start: 1 upload \([\d.]+ [kM]?B in\), 0 downloads/m);
    expect(human.stdout).toMatch(/^\s+jobs\s+embedded queue: \d+ waiting, \d+ running, 0 dead-lettered$/m);
    expect(human.stdout).toMatch(/^\s+nodes\s+3 up, 0 suspect, 0 down$/m);
    expect(human.stdout).toMatch(
      /^\s+disks\s+[\d.]+ [kMG]?B used of [\d.]+ [kMGT]?B \([\d.]+ [kMGT]?B free\) on one filesystem, shared by 3 nodes and counted once$/m,
    );

    const keyless = await legim(['stats'], box.env);
    expect(keyless.code).toBe(1);
    expect(lines(keyless.stderr)).toEqual([
      expect.stringMatching(/^✖ legim stats needs the admin key: .*\(NO_ADMIN_KEY\)$/),
    ]);
  });

  it('shows a killed node as down once the gateway has noticed', async () => {
    const victim = cluster.nodes[0]!;
    await victim.kill('SIGKILL');
    await waitFor(
      async () => (await sdk.cluster()).nodes.find((node) => node.id === victim.nodeId)?.status === 'down',
      `the gateway to mark ${victim.nodeId} down`,
    );
    const { code, stdout, stderr } = await legim(['nodes']);
    expect(code, stderr).toBe(0);
    expect(nodeLine(stdout, victim.nodeId)).toMatch(new RegExp(`${victim.nodeId}\\s+${victim.url}\\s+down\\s`));
    for (const node of cluster.nodes.slice(1)) expect(nodeLine(stdout, node.nodeId)).toMatch(/\s+up\s/);
    expect(stdout.trimEnd().split('\n').at(-2)).toBe('3 storage nodes: 2 up, 1 down');
    // The down node's last heartbeat is not counted: the two others still share the disk.
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/on one filesystem, shared by 2 nodes and counted once$/);

    const json = JSON.parse((await legim(['nodes', '--json'])).stdout) as ClusterView;
    expect(json.nodes.find((node) => node.id === victim.nodeId)?.status).toBe('down');
  });

  it('without the admin key: one red line, exit 1, nothing asked', async () => {
    const { code, stdout, stderr } = await legim(['nodes'], box.env);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(
      /^✖ legim nodes needs the admin key: set it with "legim config set apiKey KEY".*\(NO_ADMIN_KEY\)$/m,
    );
    expect(hasStack(stderr)).toBe(false);
  });

  it('with a wrong admin key: the gateway refuses, one red line, exit 1', async () => {
    const { code, stdout, stderr } = await legim(['nodes', '--json'], { ...box.env, LEGIM_API_KEY: 'not-the-key' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(/^✖ wrong admin key.*\(UNAUTHORIZED\)$/m);
    expect(hasStack(stderr)).toBe(false);
  });
});
