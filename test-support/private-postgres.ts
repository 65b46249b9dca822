import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

/**
 * A PostgreSQL server of a test's own, to stop and start at will (the
 * shared one on 5432 is never touched). Its cluster lives in one temp
 * folder: trust authentication, listening on 127.0.0.1 only, its unix
 * socket in that folder, and a database `test` made at creation. Data stays
 * on disk across stop() and start(), as after a real restart.
 */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/test` */
  readonly url: string;
  readonly port: number;
  /** Whether the server is started and not stopped since. */
  readonly running: boolean;
  /**
   * Stops the server and resolves once it has exited. `fast` (default) ends sessions and shuts down
   * cleanly; `immediate` quits at once, as in a crash (recovery runs at the next start).
   */
  stop(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** Starts it again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops the server (at once) and deletes its folder. Idempotent; never throws. */
  close(): Promise<void>;
}

const BIN = process.env.LEGIM_POSTGRES_BIN ?? '/usr/lib/postgresql/15/bin';
const START_TIMEOUT_S = 60;
const LOG_TAIL_CHARS = 4000;

/**
 * Outlives the test process if need be: once that process is gone without close(), it stops the server at once
 * and deletes the folder. close() kills it first. Arguments: owner pid, the stop command, folder.
 */
const WATCHDOG = `
owner=$1 stop=$2 dir=$3
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
sh -c "$stop" >/dev/null 2>&1
rm -rf "$dir"
`;

/** Creates a cluster, starts it and makes the `test` database; if any step fails, nothing is left behind. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const server = new Server(await freePort());
  try {
    await server.init();
    await server.start();
    await server.createDatabase('test');
    return server;
  } catch (error) {
    await server.close();
    throw error;
  }
}

class Server implements PrivatePostgres {
  readonly url: string;
  running = false;
  private readonly dir = mkdtempSync(join(tmpdir(), 'legim-postgres-'));
  private readonly data = join(this.dir, 'data');
  private readonly logFile = join(this.dir, 'postgres.log');
  private readonly asRoot = process.getuid?.() === 0;
  private watchdog: ChildProcess | undefined;
  private closed = false;
  private readonly onExit = () => {
    this.stopNowSync();
    rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(readonly port: number) {
    this.url = `postgres://postgres@127.0.0.1:${port}/test`;
    // PostgreSQL refuses to run as root: the folder belongs to the postgres user, who runs the server.
    if (this.asRoot) chownSync(this.dir, uid('postgres'), gid('postgres'));
    // If the test process ends without close() (an uncaught error, process.exit), the server must not outlive it.
    process.once('exit', this.onExit);
  }

  async init(): Promise<void> {
    await this.run('initdb', ['-D', this.data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    this.startWatchdog();
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('this private PostgreSQL was closed');
    if (this.running) return;
    const options = [
      `-p ${this.port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${this.dir}`,
      // A test server: speed over durability, and small, so several can run on a shared machine.
      '-c fsync=off',
      '-c shared_buffers=16MB',
      '-c max_connections=60',
    ].join(' ');
    try {
      // -w: returns once the server accepts connections.
      await this.run('pg_ctl', [
        'start',
        '-w',
        '-t',
        String(START_TIMEOUT_S),
        '-D',
        this.data,
        '-l',
        this.logFile,
        '-o',
        options,
      ]);
    } catch (error) {
      throw new Error(
        `private PostgreSQL on port ${this.port} did not start: ${(error as Error).message}\n${this.logTail()}`,
        { cause: error },
      );
    }
    this.running = true;
  }

  async stop(options: { mode?: 'fast' | 'immediate' } = {}): Promise<void> {
    if (!this.running) return;
    // -w: returns once the server has exited, so the port refuses connections from then on.
    await this.run('pg_ctl', [
      'stop',
      '-w',
      '-t',
      String(START_TIMEOUT_S),
      '-D',
      this.data,
      '-m',
      options.mode ?? 'fast',
    ]);
    this.running = false;
  }

  async createDatabase(name: string): Promise<void> {
    const client = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${this.port}/postgres` });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name}"`);
    } finally {
      await client.end();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watchdog?.kill('SIGKILL');
    try {
      await this.stop({ mode: 'immediate' });
    } catch (error) {
      console.warn(`private PostgreSQL: ${(error as Error).message}`);
      this.stopNowSync();
    }
    process.removeListener('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private startWatchdog(): void {
    const stop = this.command('pg_ctl', ['stop', '-D', this.data, '-m', 'immediate']).map(shellQuote).join(' ');
    this.watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'legim-postgres-watchdog', String(process.pid), stop, this.dir], {
      detached: true,
      stdio: 'ignore',
    });
    this.watchdog.unref();
  }

  /** For the exit hook: synchronous, and only if our server's pid file is there. */
  private stopNowSync(): void {
    if (!existsSync(join(this.data, 'postmaster.pid'))) return;
    const [file, ...args] = this.command('pg_ctl', ['stop', '-D', this.data, '-m', 'immediate']);
    try {
      execFileSync(file!, args, { cwd: this.dir, stdio: 'ignore', timeout: 20_000 });
    } catch {
      // Nothing more to do at exit.
    }
  }

  /** A PostgreSQL tool run as the postgres user when we are root, as ourselves otherwise. */
  private command(tool: string, args: string[]): string[] {
    const path = join(BIN, tool);
    return this.asRoot ? ['runuser', '-u', 'postgres', '--', path, ...args] : [path, ...args];
  }

  private run(tool: string, args: string[]): Promise<string> {
    const [file, ...rest] = this.command(tool, args);
    return new Promise((resolve, reject) => {
      // cwd: the folder, which the postgres user can enter (the test's own cwd may be root's).
      execFile(file!, rest, { cwd: this.dir, timeout: (START_TIMEOUT_S + 10) * 1000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${tool} ${args[0]}: ${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  }

  private logTail(): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-LOG_TAIL_CHARS) : '(no log)';
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
