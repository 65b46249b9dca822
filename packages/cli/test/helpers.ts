/**
 * Runs the BUILT `legim` binary as a child process, as a user would, with
 * its config and data in temporary directories (never the real home).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const cliPath = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): void;
}

/** A temp HOME, XDG_CONFIG_HOME and XDG_DATA_HOME; no LEGIM_*, no npm_* (as in a user's shell) and no colours. */
export function sandbox(): Sandbox {
  const dir = mkdtempSync(join(tmpdir(), 'legim-cli-'));
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (
      key.startsWith('LEGIM_') ||
      key.startsWith('npm_') ||
      key === 'FORCE_COLOR' ||
      key.startsWith('VITEST') ||
      key === 'NODE_OPTIONS'
    )
      delete env[key];
  }
  Object.assign(env, {
    HOME: join(dir, 'home'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    NO_COLOR: '1',
  });
  return { dir, env, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`legim ${args.join(' ')} did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs the built binary as the right-hand side of a shell pipe: `stdinFile`
 * (if given) is streamed into its standard input, as `cat file |` would;
 * standard output is kept as bytes, for binary output such as `-o -`.
 */
export function runCliPiped(
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdinFile?: string; timeoutMs?: number; cwd?: string },
): Promise<Omit<CliResult, 'stdout'> & { stdout: Buffer }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: options.env,
      cwd: options.cwd,
      stdio: [options.stdinFile === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.stdinFile !== undefined) {
      // The reader may stop early (a refused upload): a broken pipe is then no failure of the test.
      child.stdin!.on('error', () => {});
      createReadStream(options.stdinFile).pipe(child.stdin!);
    }
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`legim ${args.join(' ')} did not finish in time\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout: Buffer.concat(stdout), stderr });
    });
  });
}

/** Non-empty stderr lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}

/** True if the text looks like it holds a stack trace. */
export function hasStack(text: string): boolean {
  return /^\s+at\s/m.test(text) || /node:internal/.test(text);
}

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.once('error', () => resolvePromise(undefined));
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const bound = typeof address === 'object' && address ? address.port : undefined;
      server.close(() => resolvePromise(bound));
    });
  });
}

/**
 * A port P with P..P+count all free right now, below the kernel's ephemeral
 * range (32768 and up on Linux): the servers other tests start on port 0 are
 * given ports from that range, and would take one of ours between this check
 * and `legim up` listening.
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    let ok = true;
    for (let i = 0; i <= count && ok; i++) ok = (await tryListen(base + i)) !== undefined;
    if (ok) return base;
  }
  throw new Error(`no range of ${count + 1} free ports found`);
}

export async function closedPort(): Promise<number> {
  const port = await tryListen(0);
  if (port === undefined) throw new Error('no free port');
  return port;
}

/** A long-running `legim` process (`up`, `server start`) that prints JSON lines. */
export interface Running {
  child: ChildProcess;
  /** The first `{"type":"ready"}` line. */
  ready: Record<string, unknown>;
  stdoutLines: string[];
  stderrLines: string[];
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until a stderr line matches. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export function startLongRunning(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 45_000): Promise<Running> {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stdoutLines: string[] = [];
  const stderrLines: string[] = [];
  const stderrWaiters: Array<{ pattern: RegExp; resolve: (line: string) => void }> = [];

  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrLines.push(line);
    for (const waiter of [...stderrWaiters]) {
      if (waiter.pattern.test(line)) {
        stderrWaiters.splice(stderrWaiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) =>
    child.once('close', (code, signal) => resolvePromise({ code, signal })),
  );

  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`legim ${args.join(' ')} was not ready in time\nstderr:\n${stderrLines.join('\n')}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(
        new Error(
          `legim ${args.join(' ')} exited (${code ?? signal}) before it was ready\nstderr:\n${stderrLines.join('\n')}`,
        ),
      );
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      stdoutLines.push(line);
      let parsed: Record<string, unknown> | undefined;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (parsed.type !== 'ready') return;
      clearTimeout(timer);
      resolvePromise({
        child,
        ready: parsed,
        stdoutLines,
        stderrLines,
        exited,
        waitForStderr(pattern, waitMs = 15_000) {
          const already = stderrLines.find((l) => pattern.test(l));
          if (already) return Promise.resolve(already);
          return new Promise((resolveLine, rejectLine) => {
            const t = setTimeout(
              () => rejectLine(new Error(`no stderr line matched ${pattern}\n${stderrLines.join('\n')}`)),
              waitMs,
            );
            stderrWaiters.push({ pattern, resolve: (l) => (clearTimeout(t), resolveLine(l)) });
          });
        },
      });
    });
  });
}

/** Sends a signal and waits for the exit. */
export async function stop(running: Running, signal: NodeJS.Signals = 'SIGINT', timeoutMs = 20_000) {
  running.child.kill(signal);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), timeoutMs);
  try {
    return await running.exited;
  } finally {
    clearTimeout(timer);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A process `legim up` started, as its `--json` ready line names it. */
export interface UpMember {
  name: string;
  url: string;
  pid: number;
}

/** The `{"type":"ready"}` line of `legim up --json`. */
export interface UpReady {
  type: 'ready';
  pid: number;
  profile: string;
  gateway: UpMember;
  gateways: UpMember[];
  nodes: UpMember[];
  workers: Array<{ name: string; pid: number }>;
  backends: Record<string, string>;
  dataDir: string;
  settings: string;
}
