import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot } from '../../../test-support/fixtures.js';

const run = promisify(execFile);
const identityModule = join(repoRoot, 'packages/server/dist/identity.js');
const gatewayProcess = join(repoRoot, 'test-support/gateway-process.mjs');

describe('gateways sharing one data directory', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is the same for gateways that start at the same moment on one data directory', async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-identity-'));
    const script = `import { loadIdentity } from ${JSON.stringify(identityModule)};
      const adminKey = process.argv[2] || undefined;
      process.stdout.write(JSON.stringify(loadIdentity(process.argv[1], { adminKey, clusterSecret: undefined })));`;
    const startTogether = async (adminKey: string) => {
      const runs = Array.from({ length: 6 }, () =>
        run(process.execPath, ['--input-type=module', '-e', script, dir, adminKey]),
      );
      return new Set((await Promise.all(runs)).map(({ stdout }) => stdout));
    };
    const created = await startTogether('');
    expect(created.size).toBe(1);
    const identity = JSON.parse([...created][0]!);
    expect(identity).toMatchObject({ gatewayId: expect.stringMatching(/^g-/) });
    // A configured admin key (as `legim up` passes to every gateway) rewrites the file while the others read it.
    const configured = await startTogether('configured-admin-key-0123456789');
    expect([...configured].map((text) => JSON.parse(text))).toEqual([
      { ...identity, adminKey: 'configured-admin-key-0123456789' },
    ]);
    expect(readdirSync(dir)).toEqual(['identity.json']);
  });

  it('refuses a second gateway keeping replicas in the same store, and says what to do', async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-store-'));
    const flags = { port: 0, data: dir, store: true, secret: 'shared-secret-0123456789' };
    const first = spawn(process.execPath, [gatewayProcess, JSON.stringify(flags)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      await new Promise((resolve, reject) => {
        first.stdout.once('data', resolve);
        first.once('exit', reject);
      });
      const second = await run(process.execPath, [gatewayProcess, JSON.stringify(flags)]).catch((error) => error);
      expect(second.code).not.toBe(0);
      expect(second.stderr).toMatch(/another gateway \(pid \d+\) keeps replicas in .*--no-store/);
      // Without a store of its own it shares the directory fine.
      const third = spawn(process.execPath, [gatewayProcess, JSON.stringify({ ...flags, store: false })], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const ready = await new Promise<string>((resolve, reject) => {
        third.stdout.once('data', (line: Buffer) => resolve(line.toString()));
        third.once('exit', reject);
      });
      expect(JSON.parse(ready)).toHaveProperty('url');
      third.kill('SIGTERM');
    } finally {
      first.kill('SIGTERM');
    }
  });
});
