import { Legim } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture } from '../../../test-support/fixtures.js';
import { lines, runCli, sandbox, type Sandbox } from './helpers.js';

/** `legim index rebuild`, with the built binary, against a gateway that lost its index. */
describe('rebuilding the index from the command line', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  const legim = (args: string[], env: NodeJS.ProcessEnv = { LEGIM_API_KEY: testAdminKey }) =>
    runCli(['--server', cluster.gateway.url, ...args], {
      env: { ...box.env, ...env },
      cwd: box.dir,
      timeoutMs: 60_000,
    });

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    box = sandbox();
  });
  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  it('restores the files with --wait, prints a summary, and a second run restores nothing (--json)', async () => {
    const sdk = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
    const ids: string[] = [];
    for (const name of ['photo-small-flower-1600x1203.jpg', 'png-alpha.png']) {
      ids.push((await sdk.upload(fixture(name), { downloads: 4 })).id);
    }
    await cluster.restartGateway({ loseIndex: true });
    await cluster.waitForNodes(3);

    const first = await legim(['index', 'rebuild', '--wait']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/Rebuilding the index from 3 storage node\(s\)/);
    expect(first.stdout).toMatch(/✔ Index rebuilt in \d+\.\d s/);
    expect(first.stdout).toMatch(/files restored\s+2 \(\d+ variants\)/);
    expect(first.stdout).toMatch(/files\/s\s+\d+/);
    expect(first.stdout).toMatch(/orphans\s+0/);
    const restored = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
    for (const id of ids) expect((await restored.info(id)).downloadsLeft).toBe(4);

    const second = await legim(['index', 'rebuild', '--wait', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const progress = JSON.parse(second.stdout);
    expect(progress).toMatchObject({ state: 'done', filesRestored: 0, skipped: { alreadyIndexed: 2 } });
  });

  it('fails with one red line without the admin key', async () => {
    const result = await legim(['index', 'rebuild'], { LEGIM_API_KEY: '' });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/✖ .*admin key/);
  });
});
