import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import type { GatewayFlags } from '@legim/server';
import { testAdminKey, testClusterSecret } from './cluster.js';
import { repoRoot } from './fixtures.js';

/** A gateway or storage node running as its own OS process (test-support/*-process.mjs). */
export interface ServerProcess {
  url: string;
  /** The rest of its ready line (a node's `nodeId`). */
  ready: Record<string, unknown>;
  child: ChildProcess;
  /** Sends `signal` (default SIGTERM: a clean stop) unless it has exited; resolves once it has. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/**
 * A gateway process with the test cluster's secret and admin key, on a free
 * port, fast health probes and sweeps; `flags` add or override (several
 * gateways share a data dir by passing the same `data`).
 */
export function startGatewayProcess(flags: GatewayFlags): Promise<ServerProcess> {
  return spawnServer('gateway-process.mjs', {
    port: 0,
    secret: testClusterSecret,
    adminKey: testAdminKey,
    store: false,
    healthInterval: '0.2',
    sweepInterval: '0.2',
    ...flags,
  });
}

/** A storage node process that joins `parentUrl` and heartbeats every 200 ms. */
export function startNodeProcess(config: {
  dataDir: string;
  parentUrl: string;
  port?: number;
}): Promise<ServerProcess> {
  return spawnServer('node-process.mjs', {
    host: '127.0.0.1',
    port: 0,
    secret: testClusterSecret,
    heartbeatMs: 200,
    ...config,
  });
}

async function spawnServer(script: string, config: Record<string, unknown>): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(repoRoot, 'test-support', script), JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: repoRoot,
  });
  const stderr = keepStderrTail(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  // A test that dies without cleaning up must not leave servers behind.
  const onExit = () => alive() && child.kill('SIGKILL');
  process.once('exit', onExit);
  try {
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${script} was not ready in ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      createInterface({ input: child.stdout! }).once('line', (first) => {
        clearTimeout(timer);
        resolve(first);
      });
      exited.then(async () => {
        clearTimeout(timer);
        // 'exit' can come before the last of stderr has been read.
        await Promise.race([once(child.stderr!, 'end'), delay(500)]);
        const code = child.signalCode ?? child.exitCode;
        reject(new Error(`${script} exited (${code}) before it was ready; its last stderr:\n${stderr()}`));
      });
    });
    const { url, ...ready } = JSON.parse(line) as { url: string } & Record<string, unknown>;
    // Keep reading stdout so a chatty child never blocks on a full pipe.
    child.stdout!.resume();
    return {
      url,
      ready,
      child,
      async kill(signal = 'SIGTERM') {
        if (alive()) child.kill(signal);
        const killer = setTimeout(() => alive() && child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(killer);
        process.removeListener('exit', onExit);
      },
    };
  } catch (error) {
    if (alive()) child.kill('SIGKILL');
    process.removeListener('exit', onExit);
    throw error;
  }
}

const STDERR_TAIL_BYTES = 4096;

/**
 * Passes the child's stderr through (as `inherit` would) and keeps its last
 * bytes, so a server that dies while starting says why in the test's error
 * (CI shows only the end of the run's output).
 */
function keepStderrTail(child: ChildProcess): () => string {
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk);
    tail = (tail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  return () => tail;
}
