import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Legim } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture } from '../../../test-support/fixtures.js';
import { hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

const IMAGE = 'gif-animated-8-frames.gif';

/**
 * `legim ls`, `edit`, `rm`, `info` and `sharex` with the built binary against
 * a real gateway: the CLI remembers what it uploaded, so its user lists,
 * changes and deletes those files without the admin key.
 */
describe('legim ls, edit, rm and info on the files this CLI uploaded', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  const legim = (args: string[], env: NodeJS.ProcessEnv = box.env) =>
    runCli(['--server', cluster.gateway.url, ...args], { env, cwd: box.dir });
  const withAdmin = () => ({ ...box.env, LEGIM_API_KEY: testAdminKey });

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, gateway: { workers: 0 } });
    box = sandbox();
  });
  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  async function upload(downloads: number): Promise<{ id: string; deleteToken: string }> {
    const { code, stdout, stderr } = await legim([
      'upload',
      fixture(IMAGE),
      '--downloads',
      String(downloads),
      '--json',
    ]);
    expect(code, stderr).toBe(0);
    return JSON.parse(stdout) as { id: string; deleteToken: string };
  }

  it('lists, changes and uses up a file without the admin key, then shows how it ended', async () => {
    const file = await upload(1);
    const history = JSON.parse(readFileSync(join(box.env.XDG_CONFIG_HOME!, 'legim', 'uploads.json'), 'utf8'));
    expect(history[cluster.gateway.url][file.id].deleteToken).toBe(file.deleteToken);

    const listed = await legim(['ls', '--mine']);
    expect(listed.code, listed.stderr).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(file.id))!;
    expect(row).toMatch(new RegExp(`^${file.id}\\s+gif-animated-8-frames\\s+7\\.6 kB\\s+1\\s+\\d`));

    const edited = await legim(['edit', file.id, '--ttl', '2h', '--downloads', '3']);
    expect(edited.code, edited.stderr).toBe(0);
    expect(edited.stdout).toMatch(/Changed .*\n\s+downloads\s+3 left of 3\n\s+expires\s+.*\(in 2 hours\)/);
    const sdk = new Legim({ url: cluster.gateway.url });
    for (let i = 0; i < 3; i++) (await sdk.download(file.id)).stream.resume();

    const info = await legim(['info', file.id]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`^${file.id}  0 downloads left, deleted at \\d\\d:\\d\\d:\\d\\d`));
    const json = await legim(['info', file.id, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      id: file.id,
      code: 'DOWNLOADS_EXHAUSTED',
      gone: { state: 'used-up' },
    });
    const after = await legim(['ls', '--mine', '--json']);
    expect(JSON.parse(after.stdout)).toContainEqual(
      expect.objectContaining({ id: file.id, downloadsLeft: 0, gone: expect.objectContaining({ state: 'used-up' }) }),
    );
    const again = await legim(['edit', file.id, '--downloads', '10']);
    expect(again.code).toBe(1);
    expect(lines(again.stderr)).toHaveLength(1);
    expect(hasStack(again.stderr)).toBe(false);
  });

  it('deletes its own file without the admin key and forgets it; another file needs a token', async () => {
    const file = await upload(2);
    const removed = await legim(['rm', file.id]);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await legim(['ls', '--mine'])).stdout).not.toContain(file.id);

    const foreign = await new Legim({ url: cluster.gateway.url }).upload(fixture(IMAGE));
    const refused = await legim(['rm', foreign.id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/deleting a file needs its delete token, and this CLI did not upload it.*--token/);
    expect((await legim(['rm', foreign.id, '--token', foreign.deleteToken])).code).toBe(0);
  });

  it("lists the server's live files with the admin key, and refuses without a key", async () => {
    const kept = await upload(4);
    const all = await legim(['ls'], withAdmin());
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^id\s+name\s+size\s+left\s+expires$/);
    expect(all.stdout).toMatch(new RegExp(`^${kept.id}\\s+gif-animated-8-frames\\s+7\\.6 kB\\s+4\\s+`, 'm'));
    const json = JSON.parse((await legim(['ls', '--json', '--status', 'processing'], withAdmin())).stdout);
    expect(json.map((file: { id: string }) => file.id)).toContain(kept.id);

    const anonymous = await legim(['ls']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/needs the admin key or a key with the read scope/);
  });

  it('prints a ShareX uploader: without a header on open uploads, with a key given, never the admin key', async () => {
    const open = await legim(['sharex'], withAdmin());
    expect(open.code, open.stderr).toBe(0);
    const uploader = JSON.parse(open.stdout);
    expect(uploader).toMatchObject({ RequestURL: `${cluster.gateway.url}/v1/files`, FileFormName: 'file' });
    expect(uploader.Headers).toBeUndefined();

    const key = await new Legim({ url: cluster.gateway.url, apiKey: testAdminKey }).createKey({ name: 'sharex' });
    const keyed = JSON.parse((await legim(['sharex', '--key', key.secret])).stdout);
    expect(keyed.Headers).toEqual({ Authorization: `Bearer ${key.secret}` });
  });
});
