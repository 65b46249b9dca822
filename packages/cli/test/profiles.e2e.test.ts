import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../../test-support/fixtures.js';
import {
  freePortRange,
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

/**
 * Two `legim up` clusters side by side, each saved in its own profile of the
 * one settings file: the second does not take over the first one's
 * commands, `--profile` and `LEGIM_PROFILE` reach either, and SIGTERM (what
 * `kill` and service managers send) stops each as cleanly as Ctrl-C.
 */
describe('legim up profiles: two clusters, one settings file', { timeout: 120_000 }, () => {
  let box: Sandbox;
  let first: Running | undefined;
  let second: Running | undefined;
  let firstReady: Ready;
  let secondReady: Ready;
  const legim = (args: string[], env: NodeJS.ProcessEnv = box.env) => runCli(args, { env, timeoutMs: 60_000 });

  beforeAll(async () => {
    box = sandbox();
    const firstPort = await freePortRange(2);
    first = await startLongRunning(
      ['up', '--nodes', '1', '--port', String(firstPort), '--data', join(box.dir, 'first'), '--json'],
      box.env,
      60_000,
    );
    firstReady = first.ready as unknown as Ready;
    const secondPort = await freePortRange(1);
    second = await startLongRunning(
      ['up', '--nodes', '0', '--port', String(secondPort), '--data', join(box.dir, 'second'), '--json'],
      { ...box.env, LEGIM_PROFILE: 'second' },
      60_000,
    );
    secondReady = second.ready as unknown as Ready;
  }, 110_000);

  afterAll(async () => {
    for (const up of [first, second]) {
      if (up && up.child.exitCode === null && up.child.signalCode === null) await stop(up, 'SIGKILL');
    }
    box?.cleanup();
  });

  it('saves each cluster in its own profile; the first one stays the default', async () => {
    expect(firstReady).toMatchObject({ profile: 'local', pid: first!.child.pid });
    expect(secondReady).toMatchObject({ profile: 'second', pid: second!.child.pid });

    const listed = await legim(['config', 'ls', '--json']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ name: 'local', default: true, inUse: true, server: firstReady.gateway.url }),
      expect.objectContaining({ name: 'second', default: false, inUse: false, server: secondReady.gateway.url }),
    ]);
    const file = JSON.parse(readFileSync(firstReady.settings, 'utf8')) as { profile: string; profiles: object };
    expect(file.profile).toBe('local');
    expect(Object.keys(file.profiles).sort()).toEqual(['local', 'second']);
  });

  it('commands reach the right cluster: the default, --profile, LEGIM_PROFILE, then config use', async () => {
    const inFirst = await legim(['upload', fixture('png-alpha.png'), '--quiet']);
    expect(inFirst.code, inFirst.stderr).toBe(0);
    expect(inFirst.stdout.trim().startsWith(`${firstReady.gateway.url}/d/`)).toBe(true);

    const inSecond = await legim(['upload', fixture('png-alpha.png'), '--quiet', '--profile', 'second']);
    expect(inSecond.code, inSecond.stderr).toBe(0);
    const secondLink = inSecond.stdout.trim();
    expect(secondLink.startsWith(`${secondReady.gateway.url}/d/`)).toBe(true);
    const secondId = secondLink.split('/').at(-1)!;

    // The admin commands too: each profile holds its own cluster's admin key.
    const nodes = await legim(['--profile', 'second', 'nodes', '--json']);
    expect(nodes.code, nodes.stderr).toBe(0);
    expect(JSON.parse(nodes.stdout)).toMatchObject({ gateway: { url: secondReady.gateway.url } });
    const firstNodes = await legim(['nodes', '--json']);
    expect(firstNodes.code, firstNodes.stderr).toBe(0);
    expect(JSON.parse(firstNodes.stdout)).toMatchObject({ gateway: { url: firstReady.gateway.url } });

    // A bare id goes to the profile's server: the first cluster does not know the second's file.
    const elsewhere = await legim(['info', secondId]);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/FILE_NOT_FOUND/);
    const byEnv = await legim(['info', secondId, '--json'], { ...box.env, LEGIM_PROFILE: 'second' });
    expect(byEnv.code, byEnv.stderr).toBe(0);
    expect(JSON.parse(byEnv.stdout)).toMatchObject({ id: secondId });

    const use = await legim(['config', 'use', 'second']);
    expect(use.code, use.stderr).toBe(0);
    expect((await legim(['info', secondId])).code).toBe(0);
    expect((await legim(['config', 'get', 'server'])).stdout.trim()).toBe(secondReady.gateway.url);
    expect((await legim(['config', 'use', 'local'])).code).toBe(0);
    expect((await legim(['config', 'get', 'server'])).stdout.trim()).toBe(firstReady.gateway.url);
  });

  it('a profile that does not exist is one red line, not the default server', async () => {
    const missing = await legim(['--profile', 'nope', 'stats']);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([
      expect.stringMatching(
        /^✖ no profile "nope" in the settings \(the profiles are local, second\).*\(NO_SUCH_PROFILE\)$/,
      ),
    ]);
    const use = await legim(['config', 'use', 'nope']);
    expect(use.code).toBe(1);
    expect(use.stderr).toMatch(/NO_SUCH_PROFILE/);
  });

  it('stops on SIGTERM as on Ctrl-C: exit 0, no child process left', async () => {
    for (const [up, ready] of [
      [first!, firstReady],
      [second!, secondReady],
    ] as const) {
      const children = [ready.gateway.pid, ...ready.nodes.map((node) => node.pid), ...ready.workers.map((w) => w.pid)];
      for (const pid of children) expect(isAlive(pid)).toBe(true);
      expect(await stop(up, 'SIGTERM')).toEqual({ code: 0, signal: null });
      for (const pid of children) expect(isAlive(pid), `pid ${pid}`).toBe(false);
      expect(up.stderrLines.filter((line) => line.startsWith('✖'))).toEqual([]);
    }
  });
});
