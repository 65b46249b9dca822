import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sha256 } from '../../../test-support/fixtures.js';
import {
  freePortRange,
  hasStack,
  isAlive,
  lines,
  runCli,
  sandbox,
  startLongRunning,
  stop,
  type Running,
  type Sandbox,
  type UpReady,
} from './helpers.js';

type Ready = UpReady;

const PHOTO = 'photo-small-flower-1600x1203.jpg';

/**
 * The whole user story with the built binary: `legim up` runs a gateway and
 * three node processes; another "terminal" uploads and downloads through the
 * settings `up` saved; a node is killed; Ctrl-C stops everything; a restart
 * on the same data directory still knows the files.
 */
describe('legim up: a local cluster of real processes', { timeout: 120_000 }, () => {
  let box: Sandbox;
  let dataDir: string;
  let port: number;
  let up: Running | undefined;
  let ready: Ready;
  const legim = (args: string[]) => runCli(args, { env: box.env, timeoutMs: 60_000 });
  const startUp = async () => {
    up = await startLongRunning(
      ['up', '--nodes', '3', '--port', String(port), '--data', dataDir, '--json'],
      box.env,
      60_000,
    );
    ready = up.ready as unknown as Ready;
  };

  beforeAll(async () => {
    box = sandbox();
    dataDir = join(box.dir, 'cluster');
    port = await freePortRange(3);
    await startUp();
  }, 90_000);

  afterAll(async () => {
    if (up && up.child.exitCode === null && up.child.signalCode === null) await stop(up, 'SIGTERM');
    box?.cleanup();
  });

  let limitedId: string;
  let keptId: string;

  it('starts a gateway and three nodes, each its own process, and saves the settings', async () => {
    expect(ready.gateway.url).toBe(`http://127.0.0.1:${port}`);
    expect(ready.nodes.map((n) => n.url)).toEqual([1, 2, 3].map((i) => `http://127.0.0.1:${port + i}`));
    const pids = [ready.gateway.pid, ...ready.nodes.map((n) => n.pid)];
    expect(new Set(pids).size).toBe(4);
    expect(pids).not.toContain(up!.child.pid);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);

    const secrets = JSON.parse(readFileSync(join(dataDir, 'cluster.json'), 'utf8')) as {
      adminKey: string;
      clusterSecret: string;
    };
    const config = await legim(['config', 'get', '--json', '--reveal']);
    expect(JSON.parse(config.stdout)).toEqual({
      profile: { value: 'local', source: 'config' },
      server: { value: ready.gateway.url, source: 'config' },
      apiKey: { value: secrets.adminKey, source: 'config' },
      // Only `legim up --tls` saves a CA.
      ca: { value: null, source: 'default' },
    });
  });

  it('uploads a photo and downloads it exactly three times, byte for byte', async () => {
    const upload = await legim(['upload', fixture(PHOTO), '--downloads', '3', '--ttl', '1h', '--json']);
    expect(upload.code, upload.stderr).toBe(0);
    const file = JSON.parse(upload.stdout) as {
      id: string;
      url: string;
      downloadsLeft: number;
      maxDownloads: number;
      deleteToken: string;
    };
    expect(file.url).toBe(`${ready.gateway.url}/d/${file.id}`);
    expect(file).toMatchObject({ downloadsLeft: 3, maxDownloads: 3 });
    expect(file.deleteToken).toEqual(expect.any(String));
    limitedId = file.id;

    const expected = sha256(readFileSync(fixture(PHOTO)));
    for (let i = 1; i <= 3; i++) {
      const target = join(box.dir, `copy-${i}.jpg`);
      // Alternate the id and the full link.
      const download = await legim(['download', i % 2 ? file.id : file.url, '-o', target]);
      expect(download.code, download.stderr).toBe(0);
      expect(download.stdout).toContain(target);
      expect(sha256(readFileSync(target))).toBe(expected);
    }

    const fourth = await legim(['download', file.id, '-o', join(box.dir, 'copy-4.jpg')]);
    expect(fourth.code).not.toBe(0);
    expect(lines(fourth.stderr)).toHaveLength(1);
    expect(fourth.stderr).toMatch(/no downloads left/i);
    expect(hasStack(fourth.stderr)).toBe(false);
  });

  it('names the downloaded file after the id and the type when no -o is given', async () => {
    const upload = await legim(['upload', fixture('png-alpha.png'), '--downloads', '5', '--ttl', '1h', '--json']);
    expect(upload.code, upload.stderr).toBe(0);
    keptId = (JSON.parse(upload.stdout) as { id: string }).id;
    const download = await runCli(['download', keptId, '--json'], { env: box.env, cwd: box.dir });
    expect(download.code, download.stderr).toBe(0);
    const result = JSON.parse(download.stdout) as { path: string; size: number; downloadsLeft: number };
    expect(result.path).toBe(join(box.dir, `${keptId}.png`));
    expect(result.downloadsLeft).toBe(4);
    expect(sha256(readFileSync(result.path))).toBe(sha256(readFileSync(fixture('png-alpha.png'))));

    const info = await legim(['info', keptId]);
    expect(info.code, info.stderr).toBe(0);
    expect(info.stdout).toMatch(/downloads\s+4 left of 5/);
    expect(info.stdout).toMatch(/type\s+image\/png/);
  });

  it('reports a killed node in one red line and keeps serving', async () => {
    const victim = ready.nodes[2]!;
    process.kill(victim.pid, 'SIGKILL');
    const line = await up!.waitForStderr(/node-3 .*killed by SIGKILL/);
    expect(line).toMatch(/^✖ /);
    expect(isAlive(ready.gateway.pid)).toBe(true);

    const info = await legim(['info', keptId, '--json']);
    expect(info.code, info.stderr).toBe(0);
    const download = await legim(['download', keptId, '-o', join(box.dir, 'after-kill.png')]);
    expect(download.code, download.stderr).toBe(0);
    expect(sha256(readFileSync(join(box.dir, 'after-kill.png')))).toBe(sha256(readFileSync(fixture('png-alpha.png'))));
  });

  it('stops cleanly on Ctrl-C: exit 0, every child process gone', async () => {
    const pids = [ready.gateway.pid, ...ready.nodes.map((n) => n.pid)];
    const exit = await stop(up!, 'SIGINT');
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of pids) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(up!.stderrLines.filter((l) => l.startsWith('✖')).length).toBe(1); // only the killed node
  });

  it('restarts on the same data directory and still knows the files', async () => {
    const before = readFileSync(join(dataDir, 'cluster.json'), 'utf8');
    await startUp();
    expect(readFileSync(join(dataDir, 'cluster.json'), 'utf8')).toBe(before);

    const info = await legim(['info', keptId, '--json']);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ id: keptId, downloadsLeft: 3, maxDownloads: 5 });

    // Used up before the restart: info says how it ended, which is an answer, not a failure.
    const gone = await legim(['info', limitedId, '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(JSON.parse(gone.stdout)).toMatchObject({ id: limitedId, code: 'DOWNLOADS_EXHAUSTED' });

    const exit = await stop(up!, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
