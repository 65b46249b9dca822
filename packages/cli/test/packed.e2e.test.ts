import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, repoRoot, sha256 } from '../../../test-support/fixtures.js';
import { sandbox, type Sandbox } from './helpers.js';

const run = promisify(execFile);
const PHOTO = 'photo-small-flower-1600x1203.jpg';
const PACKAGES = ['packages/sdk', 'packages/node', 'packages/server', 'packages/cli'];

/**
 * What a user outside this repository gets: the packed tarballs install into
 * an empty folder, the SDK imports and works against a running cluster, and
 * the `legim` binary runs. Install scripts are skipped (the native SQLite
 * build takes minutes and the commands used here never open a database).
 */
describe('the packed packages', { timeout: 240_000 }, () => {
  let box: Sandbox;
  let app: string;
  let cluster: TestCluster;

  beforeAll(async () => {
    box = sandbox();
    const packs = join(box.dir, 'packs');
    app = join(box.dir, 'app');
    mkdirSync(packs);
    mkdirSync(app);
    for (const pkg of PACKAGES) {
      await run('npm', ['pack', '--silent', '--pack-destination', packs], { cwd: join(repoRoot, pkg), env: box.env });
    }
    const tarballs = readdirSync(packs).map((name) => join(packs, name));
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await run(
      'npm',
      ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--silent', ...tarballs],
      { cwd: app, env: box.env, timeout: 180_000 },
    );
    cluster = await startCluster({ nodes: 3 });
  }, 240_000);

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  it('holds only what users need: built code, typings and a README', () => {
    const installed = join(app, 'node_modules/@legim/sdk');
    const files = readdirSync(installed);
    expect(files.sort()).toEqual(['README.md', 'dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist'))).toContain('index.d.ts');
  });

  it('the installed SDK uploads and downloads against a running cluster', async () => {
    const script = join(app, 'share.mjs');
    writeFileSync(
      script,
      `import { Legim } from '@legim/sdk';
       const legim = new Legim({ url: process.argv[2] });
       const file = await legim.upload(process.argv[3], { downloads: 1, ttl: '1m' });
       const saved = await legim.downloadTo(file.url, 'copy.jpg');
       console.log(JSON.stringify({ max: file.maxDownloads, left: saved.downloadsLeft, sha256: saved.sha256 }));`,
    );
    const { stdout } = await run(process.execPath, [script, cluster.gateway.url, fixture(PHOTO)], { cwd: app });
    const photo = sha256(readFileSync(fixture(PHOTO)));
    expect(JSON.parse(stdout)).toEqual({ max: 1, left: 0, sha256: photo });
    expect(sha256(readFileSync(join(app, 'copy.jpg')))).toBe(photo);
  });

  it('the installed legim command runs', async () => {
    const { stdout } = await run(join(app, 'node_modules/.bin/legim'), ['--version'], { cwd: app, env: box.env });
    const { version } = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8')) as {
      version: string;
    };
    expect(stdout.trim()).toBe(version);
  });
});
