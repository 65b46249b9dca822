import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';

/**
 * A Redis server of a test's own, to kill and restart at will (the shared
 * one on 6379 is never touched). Like the shared one it keeps nothing on
 * disk, so a restart comes back empty; with `persist` it writes every
 * command to an append-only file first, so it comes back with its data.
 */
export interface PrivateRedis {
  readonly url: string;
  readonly port: number;
  /** SIGKILL: gone at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with its data if it persists. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startPrivateRedis(options: { persist?: boolean } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'legim-redis-'));
  let child: ChildProcess | undefined;

  const start = async () => {
    const durability = options.persist ? ['yes', '--appendfsync', 'always'] : ['no'];
    const args = [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--dir',
      dir,
      '--appendonly',
      ...durability,
    ];
    const started = spawn('redis-server', args, { stdio: 'ignore' });
    child = started;
    await waitUntilServing(port, started);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    start,
    async close() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilServing(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} (is it installed?)`);
    const probe = new Redis(port, '127.0.0.1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await sleep(50);
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server did not start on port ${port}`);
}
