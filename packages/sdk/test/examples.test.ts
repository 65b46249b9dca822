import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes, repoRoot, sha256 } from '../../../test-support/fixtures.js';
import { Legim } from '../src/index.js';

const run = promisify(execFile);
const example = join(repoRoot, 'examples', 'share-image.mjs');

let cluster: TestCluster;

beforeAll(async () => {
  // The example imports the built package, like an app would.
  if (!existsSync(join(repoRoot, 'packages/sdk/dist/index.js'))) {
    throw new Error('build the SDK first: npx tsc -b packages/sdk');
  }
  cluster = await startCluster({ nodes: 3 });
});

afterAll(async () => {
  await cluster?.close();
});

function runExample(image: string) {
  return run(process.execPath, [example, image], { env: { ...process.env, LEGIM_URL: cluster.gateway.url } });
}

describe('examples/share-image.mjs', () => {
  it('shares an image through the gateway and verifies one download', async () => {
    const photo = 'photo-small-flower-1600x1203.jpg';
    const admin = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });
    const before = (await admin.health()).files;

    const { stdout } = await runExample(fixture(photo));

    const link = new RegExp(`^${cluster.gateway.url}/d/([0-9a-f-]{36})$`, 'm').exec(stdout);
    expect(link, stdout).not.toBeNull();
    expect(stdout).toContain('3 downloads left, expires ');
    expect(stdout).toContain(
      `downloaded ${fixtureBytes(photo).length} bytes once, SHA-256 verified (${sha256(fixtureBytes(photo))})`,
    );
    expect(stdout).toContain('2 downloads left');

    // What the gateway holds is what the example asked for.
    const info = await admin.info(link![1]!);
    expect(info).toMatchObject({
      title: 'photo-small-flower-1600x1203',
      sha256: sha256(fixtureBytes(photo)),
      maxDownloads: 3,
      downloadsLeft: 2,
    });
    expect(Date.parse(info.expiresAt) - Date.parse(info.createdAt)).toBe(3600_000);
    expect((await admin.health()).files).toBe(before! + 1);
  });

  it('says what went wrong in one line', async () => {
    for (const image of ['bad-text-named.jpg', 'svg-with-script.svg']) {
      const failure = await runExample(fixture(image)).catch(
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(failure).toMatchObject({ code: 1, stdout: '' });
      expect((failure as { stderr: string }).stderr).toMatch(/^UNSUPPORTED_MEDIA_TYPE: [^\n]+\n$/);
    }
  });

  it('names the server it cannot reach', async () => {
    const stopped = await startCluster({ nodes: 0 });
    const url = stopped.gateway.url;
    await stopped.close();
    const failure = await run(process.execPath, [example, fixture('tiny-1x1.png')], {
      env: { ...process.env, LEGIM_URL: url },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toBe(
      `NETWORK_ERROR: cannot reach the Legim server at ${url}: connection refused (ECONNREFUSED); is the server running, and is the URL right?\n`,
    );
  });
});
