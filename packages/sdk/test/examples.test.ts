import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fixture, fixtureBytes, repoRoot, sha256 } from '../../../test-support/fixtures.js';
import { startGatewayPeer, type GatewayPeer } from './gateway-peer.js';

const run = promisify(execFile);
const example = join(repoRoot, 'examples', 'share-image.mjs');

let peer: GatewayPeer;

beforeEach(async () => {
  peer = await startGatewayPeer();
});

afterEach(async () => {
  await peer.close();
});

describe('examples/share-image.mjs', () => {
  beforeAll(() => {
    // The example imports the built package, like an app would.
    if (!existsSync(join(repoRoot, 'packages/sdk/dist/index.js'))) {
      throw new Error('build the SDK first: npx tsc -b packages/sdk');
    }
  });

  it('shares an image and verifies one download', async () => {
    const photo = 'photo-small-flower-1600x1203.jpg';
    const { stdout } = await run(process.execPath, [example, fixture(photo)], {
      env: { ...process.env, LEGIM_URL: peer.url },
    });
    const [file] = peer.files.values();
    expect(stdout).toContain(`${peer.url}/d/${file?.info.id as string}`);
    expect(stdout).toContain(`SHA-256 verified (${sha256(fixtureBytes(photo))})`);
    expect(stdout).toContain('2 downloads left');
    expect(peer.requests[0]?.url.search).toBe('?downloads=3&ttl=3600&title=photo-small-flower-1600x1203');
  });

  it('says what went wrong in one line', async () => {
    const failure = await run(process.execPath, [example, fixture('svg-harmless.svg')], {
      env: { ...process.env, LEGIM_URL: peer.url },
    }).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1, stderr: 'UNSUPPORTED_MEDIA_TYPE: not a JPEG, PNG, GIF, WebP, AVIF or TIFF image\n' });
  });
});
