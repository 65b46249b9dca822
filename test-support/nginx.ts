import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './free-port.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
// The one config generator, shared with the benchmarks and shown in docs/operations.md.
import { privateNginxConfig } from './nginx-config.mjs';

export interface NginxOptions {
  /** Gateway base URLs (`http://127.0.0.1:PORT`), in the upstream block in this order. */
  upstreams: string[];
  /** The gateways' --max-upload; nginx takes 1 MiB more (multipart envelope). Default 100 MiB. */
  maxUploadBytes?: number;
  /** Port on 127.0.0.1; default a free one. */
  port?: number;
  /** Default 1. */
  workers?: number;
}

/** One line of the access log: which gateway(s) a request went to. */
export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
  /** Every gateway tried, in order (`host:port`); empty when nginx answered itself. */
  upstreams: string[];
}

export interface RunningNginx {
  url: string;
  port: number;
  /** The prefix folder: nginx.conf, logs, pid, temp paths. */
  dir: string;
  config: string;
  /** The access log so far, parsed. */
  accessLog(): AccessLogEntry[];
  /** Stops nginx (fast shutdown, then SIGKILL) and deletes its folder. Idempotent. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'install it with: apt-get update && apt-get install -y nginx (or point LEGIM_NGINX at an nginx binary)';
const START_TIMEOUT_MS = 10_000;

/**
 * An nginx of the test's own in front of the given gateways, with the
 * production proxy configuration (docs/operations.md): its own prefix in a
 * temp folder (config, pid, logs, temp paths), on 127.0.0.1, in the
 * foreground as our child. Throws, saying how to install it, if nginx is missing.
 */
export async function startNginx(options: NginxOptions): Promise<RunningNginx> {
  const binary = findNginx();
  const dir = mkdtempSync(join(tmpdir(), 'legim-nginx-'));
  const accessLogPath = join(dir, 'access.log');
  try {
    // A free port can be taken between our check and nginx's bind: try again with another.
    for (let attempt = 1; ; attempt++) {
      const port = options.port ?? (await freePort());
      const config = privateNginxConfig({
        prefix: dir,
        workers: options.workers ?? 1,
        upstreams: options.upstreams,
        listen: `127.0.0.1:${port}`,
        maxUploadBytes: options.maxUploadBytes,
        accessLog: accessLogPath,
      });
      writeFileSync(join(dir, 'nginx.conf'), config);
      const started = await launch(binary, dir, port);
      if ('child' in started) return running(started.child, dir, port, config, accessLogPath);
      if (options.port !== undefined || attempt >= 3 || !/Address already in use/.test(started.output)) {
        throw new Error(`nginx did not start:\n${started.output}`);
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** nginx from LEGIM_NGINX, the PATH or the usual sbin folders (not on every user's PATH). */
export function findNginx(): string {
  const candidates = [
    process.env.LEGIM_NGINX,
    '/usr/sbin/nginx',
    '/usr/local/sbin/nginx',
    '/usr/local/nginx/sbin/nginx',
  ];
  const which = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) candidates.splice(1, 0, which.stdout.trim());
  const found = candidates.find((path): path is string => !!path && existsSync(path));
  if (!found) throw new Error(`these tests put the gateways behind nginx, which is not installed; ${INSTALL_HINT}`);
  return found;
}

async function launch(
  binary: string,
  dir: string,
  port: number,
): Promise<{ child: ChildProcess } | { output: string }> {
  // -e: the compiled-in error log (/var/log/nginx) is opened before the config is read.
  const child = spawn(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => (output += `spawn failed: ${error.message}\n`));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (child.exitCode === null && child.signalCode === null) {
    if (await canConnect(port)) return { child };
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      return { output: `not listening on 127.0.0.1:${port} after ${START_TIMEOUT_MS} ms\n${output}` };
    }
    await sleep(20);
  }
  await exited;
  return { output: output + errorLogOf(dir) };
}

function running(child: ChildProcess, dir: string, port: number, config: string, accessLogPath: string): RunningNginx {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  // If the test process ends without stop(), the master must not outlive it. SIGTERM, not SIGKILL:
  // the master then stops its workers, which a SIGKILLed master would leave behind.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  let stopping: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    dir,
    config,
    accessLog: () => parseAccessLog(existsSync(accessLogPath) ? readFileSync(accessLogPath, 'utf8') : ''),
    stop: () =>
      (stopping ??= (async () => {
        process.removeListener('exit', onExit);
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
          await exited;
          clearTimeout(killer);
        }
        rmSync(dir, { recursive: true, force: true });
      })()),
  };
}

// '$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent upstream="$upstream_addr" ...'
const LOG_LINE = /"(\S+) (\S+) [^"]*" (\d{3}) \d+ upstream="([^"]*)"/;

function parseAccessLog(text: string): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  for (const line of text.split('\n')) {
    const match = LOG_LINE.exec(line);
    if (!match) continue;
    const [, method, path, status, upstreams] = match;
    entries.push({
      method: method!,
      path: path!,
      status: Number(status),
      // "a, b" when nginx moved on to the next gateway; "a : b" across upstream groups; "-" for none.
      upstreams: upstreams === '-' ? [] : upstreams!.split(/\s*[,:]\s+/),
    });
  }
  return entries;
}

function errorLogOf(dir: string): string {
  const path = join(dir, 'error.log');
  return existsSync(path) ? `--- ${path} ---\n${readFileSync(path, 'utf8').slice(-4000)}` : '';
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
