import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Legim } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, sha256 } from '../../../test-support/fixtures.js';
import { hasStack, lines, runCli, runCliPiped, sandbox, type Sandbox } from './helpers.js';

const PHOTO = 'photo-small-flower-1600x1203.jpg';
const PNG = 'png-alpha.png';
const LINK = /^http:\/\/127\.0\.0\.1:\d+\/d\/[0-9a-f-]{36}$/;

/**
 * The CLI in shell pipelines, with the built binary against a real gateway
 * and storage node processes: `cat photo.jpg | legim upload - --quiet`,
 * `legim download ID -o - | sha256sum`, several files in one call.
 */
describe('legim in pipes', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  let sdk: Legim;
  const env = (): NodeJS.ProcessEnv => ({ ...box.env, LEGIM_URL: cluster.gateway.url });
  const legim = (args: string[]) => runCli(args, { env: env(), cwd: box.dir });

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
    box = sandbox();
    sdk = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
  });

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  it('cat photo.jpg | legim upload - --quiet prints exactly one line: the link', async () => {
    const upload = await runCliPiped(['upload', '-', '--quiet', '--downloads', '2'], {
      env: env(),
      stdinFile: fixture(PHOTO),
    });
    expect(upload.code, upload.stderr).toBe(0);
    expect(upload.stderr).toBe('');
    const printed = upload.stdout.toString('utf8');
    expect(printed.endsWith('\n')).toBe(true);
    expect(printed.trimEnd().split('\n')).toEqual([expect.stringMatching(LINK)]);

    const info = await sdk.info(printed.trim());
    expect(info).toMatchObject({ size: readFileSync(fixture(PHOTO)).length, maxDownloads: 2, title: '' });
    expect(info.sha256).toBe(sha256(readFileSync(fixture(PHOTO))));
  });

  it('legim download ID -o - writes the bytes to stdout, the summary to stderr, and no file named -', async () => {
    const file = await sdk.upload(fixture(PHOTO), { downloads: 2 });
    const download = await runCliPiped(['download', file.id, '-o', '-'], { env: env(), cwd: box.dir });
    expect(download.code, download.stderr).toBe(0);
    // What `| sha256sum` would print.
    expect(sha256(download.stdout)).toBe(sha256(readFileSync(fixture(PHOTO))));
    expect(lines(download.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(`^✔ Wrote ${file.id} to standard output \\(81 kB, 80905 bytes\\); 1 download left$`),
      ),
    ]);
    expect(existsSync(join(box.dir, '-'))).toBe(false);
    expect((await sdk.info(file.id)).downloadsLeft).toBe(1);
  });

  it('pipes stdin through upload and download, with --name for the title', async () => {
    const upload = await runCliPiped(['upload', '-', '--name', 'flower.jpg', '--json'], {
      env: env(),
      stdinFile: fixture(PNG),
    });
    expect(upload.code, upload.stderr).toBe(0);
    const objects = upload.stdout.toString('utf8').trimEnd().split('\n');
    expect(objects).toHaveLength(1);
    const uploaded = JSON.parse(objects[0]!) as { id: string; title: string; contentType: string };
    expect(uploaded).toMatchObject({ title: 'flower', contentType: 'image/png' });

    const download = await runCliPiped(['download', uploaded.id, '-o', '-'], { env: env() });
    expect(download.code, download.stderr).toBe(0);
    expect(sha256(download.stdout)).toBe(sha256(readFileSync(fixture(PNG))));
  });

  it('-o - with --json is refused before a download is taken', async () => {
    const file = await sdk.upload(fixture(PHOTO), { downloads: 1 });
    const refused = await runCliPiped(['download', file.id, '-o', '-', '--json'], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stdout.length).toBe(0);
    expect(lines(refused.stderr)).toEqual([expect.stringMatching(/^✖ .*--json.*\(INVALID_OPTION\)$/)]);
    expect((await sdk.info(file.id)).downloadsLeft).toBe(1);
  });

  it('uploads several files in one call: one link each', async () => {
    const quiet = await legim(['upload', fixture(PHOTO), fixture(PNG), '--quiet']);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
    const links = quiet.stdout.trimEnd().split('\n');
    expect(links).toEqual([expect.stringMatching(LINK), expect.stringMatching(LINK)]);
    expect((await sdk.info(links[0]!)).contentType).toBe('image/jpeg');
    expect((await sdk.info(links[1]!)).contentType).toBe('image/png');

    const human = await legim(['upload', fixture(PHOTO), fixture(PNG)]);
    expect(human.code, human.stderr).toBe(0);
    const printed = human.stdout.trimEnd().split('\n');
    expect(printed).toHaveLength(2);
    expect(printed[0]).toMatch(
      new RegExp(`^✔ ${PHOTO}  http://\\S+/d/[0-9a-f-]{36}  81 kB, 3 downloads, expires .*delete token \\S+$`),
    );
    expect(printed[1]).toMatch(new RegExp(`^✔ ${PNG}  http://`));
  });

  it('a bad file among several: its red line, the others uploaded, exit 1 at the end', async () => {
    const missing = join(box.dir, 'missing.jpg');
    const run = await legim(['upload', fixture(PHOTO), missing, fixture('bad-text-named.jpg'), fixture(PNG)]);
    expect(run.code).toBe(1);
    expect(hasStack(run.stderr)).toBe(false);
    const uploaded = run.stdout.trimEnd().split('\n');
    expect(uploaded).toEqual([
      expect.stringMatching(new RegExp(`^✔ ${PHOTO}  http://`)),
      expect.stringMatching(new RegExp(`^✔ ${PNG}  http://`)),
    ]);
    expect(lines(run.stderr)).toEqual([
      `✖ no such file: ${missing} (NO_SUCH_FILE)`,
      expect.stringMatching(/^✖ bad-text-named\.jpg: .*\(UNSUPPORTED_MEDIA_TYPE\)$/),
      '✖ 2 of 4 files could not be uploaded; the others were',
    ]);

    const json = await legim(['upload', fixture(PHOTO), missing, '--json']);
    expect(json.code).toBe(1);
    const objects = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as { source?: string; url?: string; error?: { code: string } });
    // In the order given: the file object of each upload, or what went wrong with the file.
    expect(objects).toEqual([
      expect.objectContaining({ url: expect.stringMatching(LINK), title: 'photo-small-flower-1600x1203' }),
      { source: missing, error: { code: 'NO_SUCH_FILE', message: `no such file: ${missing}` } },
    ]);
  });

  it('standard input is refused twice in one call, and --name with several files', async () => {
    const twice = await legim(['upload', '-', '-']);
    expect(twice.code).toBe(1);
    expect(lines(twice.stderr)).toEqual([expect.stringMatching(/^✖ standard input .*once.*\(INVALID_OPTION\)$/)]);
    const named = await legim(['upload', fixture(PHOTO), fixture(PNG), '--name', 'x.jpg']);
    expect(named.code).toBe(1);
    expect(lines(named.stderr)).toEqual([expect.stringMatching(/^✖ --name names one upload.*\(INVALID_OPTION\)$/)]);
  });

  it('--ttl 90d is refused in the unit it was given: at most 30d', async () => {
    const refused = await legim(['upload', fixture(PHOTO), '--ttl', '90d']);
    expect(refused.code).toBe(1);
    expect(lines(refused.stderr)).toEqual(['✖ ttl must be at most 30d on this server, got 90d (INVALID_OPTION)']);
    expect(refused.stderr).not.toContain('2592000');
  });

  it('a storage node given as --server is named as such', async () => {
    const node = cluster.nodes[0]!;
    for (const args of [['upload', fixture(PHOTO)], ['nodes'], ['info', '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21']]) {
      const run = await runCli(['--server', node.url, ...args], {
        env: { ...box.env, LEGIM_API_KEY: testAdminKey },
      });
      expect(run.code).toBe(1);
      expect(lines(run.stderr)).toEqual([
        `✖ ${node.url} is a storage node, not a gateway; use the gateway's URL (the one its nodes join with --parent; "legim up" prints it first, http://127.0.0.1:3333 by default) with --server, LEGIM_URL or "legim config set server URL" (NOT_A_GATEWAY)`,
      ]);
    }
  });
});
