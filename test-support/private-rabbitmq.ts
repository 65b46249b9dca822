import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';

/**
 * A RabbitMQ broker of a test's own, to stop and start at will. The shared
 * broker (127.0.0.1:5672, node `rabbit@localhost`) is never touched: this one
 * has its own Erlang node name, AMQP and distribution ports, Erlang cookie,
 * and mnesia, log and config files, all in one temp folder, and listens on
 * 127.0.0.1 only. It uses the machine's epmd (starting it if absent) and
 * never stops it.
 */
export interface PrivateRabbitMQ {
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The Erlang node, e.g. `legim-test-1a2b3c4d@localhost`. */
  readonly nodeName: string;
  /** The broker's log (inside its temp folder, deleted by close()). */
  readonly logFile: string;
  /** Whether the broker is (or is being) started and not stopped since. */
  readonly running: boolean;
  /**
   * Graceful stop; durable queues and persistent messages stay on disk. Resolves once the VM has exited.
   * Falls back to SIGTERM, then SIGKILL, if the broker will not stop.
   */
  stop(options?: StopOptions): Promise<void>;
  /**
   * SIGKILL to the broker's Erlang VM and its wrapper, as in a crash (no graceful stop); resolves once it
   * has exited. Durable queues and persistent messages that reached the disk are there at the next start.
   */
  kill(): Promise<void>;
  /** Starts it again: same node name, ports and mnesia dir. Resolves once it accepts AMQP connections. */
  start(): Promise<void>;
  /** Stops, stays down for `downMs`, starts. */
  restart(downMs?: number, options?: StopOptions): Promise<void>;
  /** Runs `rabbitmqctl -n <node> ...args` against this broker; resolves with its stdout. */
  ctl(...args: string[]): Promise<string>;
  /** Stops the broker (killing it if it will not stop) and deletes its folder. Idempotent; never throws. */
  close(): Promise<void>;
}

export interface StopOptions {
  /**
   * `rabbitmqctl` (default): `rabbitmqctl -n <node> stop <pid file>`. `sigterm`: SIGTERM to the broker
   * process we started, the same graceful shutdown without booting the CLI's own Erlang VM, which takes
   * 2–3 s on an idle machine and 10–20 s while image workers keep both cores busy.
   */
  via?: 'rabbitmqctl' | 'sigterm';
}

export interface PrivateRabbitMQOptions {
  /** How long a start may take before it is given up on. Default 60000 (a start takes 7–11 s). */
  startTimeoutMs?: number;
}

// Ports the CLI tools and the shared broker use (epmd, AMQP, distribution, CLI distribution range).
const RESERVED_PORTS = new Set([4369, 5672, 25672, ...Array.from({ length: 11 }, (_, i) => 35672 + i)]);
const STOP_TIMEOUT_MS = 30_000;
const KILL_WAIT_MS = 10_000;
const OUTPUT_TAIL_CHARS = 4000;

/**
 * Outlives the test process if need be: once that process is gone (killed by a signal, or it exited before
 * close()), it stops the broker (SIGTERM to the VM is a graceful stop; SIGKILL after 15 s) and deletes the
 * folder. It exits as soon as the broker does, and close() ends it too. Arguments: owner pid, wrapper pid,
 * VM pid file, folder.
 */
const WATCHDOG = `
owner=$1 server=$2 pidfile=$3 dir=$4
alive() { kill -0 "$1" 2>/dev/null; }
vm() { cat "$pidfile" 2>/dev/null; }
while alive "$owner"; do
  alive "$server" || exit 0
  sleep 1
done
vm=$(vm)
if [ -n "$vm" ]; then kill -TERM "$vm" 2>/dev/null; else kill -TERM "$server" 2>/dev/null; fi
i=0
while { alive "$server" || { [ -n "$vm" ] && alive "$vm"; }; } && [ "$i" -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
[ -n "$vm" ] && kill -KILL "$vm" 2>/dev/null
kill -KILL "$server" 2>/dev/null
rm -rf "$dir"
`;

/** Starts a broker of its own and resolves once it accepts AMQP connections; if it cannot start, nothing is left behind. */
export async function startPrivateRabbitMQ(options: PrivateRabbitMQOptions = {}): Promise<PrivateRabbitMQ> {
  for (let attempt = 1; ; attempt++) {
    const broker = new Broker(options.startTimeoutMs ?? 60_000);
    try {
      await broker.start();
      return broker;
    } catch (error) {
      await broker.close();
      // Ports picked while free can be taken before the broker binds them (other test processes run meanwhile).
      if (attempt < 3 && PORT_TAKEN.test((error as Error).message)) continue;
      throw error;
    }
  }
}

const PORT_TAKEN = /dist_port_already_used|could not bind|eaddrinuse/i;

function findScripts(): string {
  const candidates = [process.env.LEGIM_RABBITMQ_SBIN, '/usr/lib/rabbitmq/bin'].filter((d): d is string => !!d);
  // The Debian wrappers in /usr/sbin switch to the `rabbitmq` user and its cookie; the scripts behind them do not.
  const dir = candidates.find((d) => existsSync(join(d, 'rabbitmq-server')) && existsSync(join(d, 'rabbitmqctl')));
  if (!dir) {
    throw new Error(
      `rabbitmq-server was not found in ${candidates.join(' or ')}: install it (apt-get install rabbitmq-server) ` +
        'or point LEGIM_RABBITMQ_SBIN at the folder holding rabbitmq-server and rabbitmqctl',
    );
  }
  return dir;
}

class Broker implements PrivateRabbitMQ {
  url = '';
  port = 0;
  readonly nodeName = `legim-test-${randomBytes(4).toString('hex')}@localhost`;
  private readonly scripts = findScripts();
  private readonly dir = mkdtempSync(join(tmpdir(), 'legim-rabbitmq-'));
  private readonly pidFile = join(this.dir, 'rabbitmq.pid');
  readonly logFile = join(this.dir, 'log', `${this.nodeName}.log`);
  private env: NodeJS.ProcessEnv | undefined;
  private readonly outputFile = join(this.dir, 'server.out');
  private child: ChildProcess | undefined;
  private watchdog: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onExit = () => {
    this.killNow();
    rmSync(this.dir, { recursive: true, force: true });
  };

  constructor(private readonly startTimeoutMs: number) {
    // If the test process ends without close() (an uncaught error, process.exit), the broker must not outlive it.
    process.once('exit', this.onExit);
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.closed) throw new Error('this private RabbitMQ was closed');
    if (this.child) return;
    this.env ??= await this.prepare();
    const started = Date.now();
    rmSync(this.pidFile, { force: true });
    // Output to a file, not a pipe: a broker left behind by a dead test process must not die of SIGPIPE mid-stop.
    const out = openSync(this.outputFile, 'w');
    let child: ChildProcess;
    try {
      // In the foreground, as our child: its wrapper shell turns SIGTERM into a graceful stop, and we see it exit.
      child = spawn(join(this.scripts, 'rabbitmq-server'), [], {
        cwd: this.dir,
        env: this.env,
        stdio: ['ignore', out, out],
      });
    } finally {
      closeSync(out);
    }
    this.child = child;
    let exitCode: number | string | null | undefined;
    this.exited = new Promise<void>((resolve) => {
      const exited = (code: number | string | null) => {
        if (exitCode !== undefined) return;
        exitCode = code;
        if (this.child === child) this.child = undefined;
        rmSync(this.pidFile, { force: true });
        this.watchdog?.kill('SIGTERM');
        this.watchdog = undefined;
        resolve();
      };
      child.once('exit', (code, signal) => exited(code ?? signal));
      child.once('error', (error) => {
        writeFileSync(this.outputFile, `\nspawn failed: ${error.message}\n`, { flag: 'a' });
        exited('spawn error');
      });
    });
    if (child.pid) {
      const args = [String(process.pid), String(child.pid), this.pidFile, this.dir];
      this.watchdog = spawn('/bin/sh', ['-c', WATCHDOG, 'legim-rabbitmq-watchdog', ...args], {
        detached: true,
        stdio: 'ignore',
      });
      this.watchdog.unref();
    }
    // Ready means an AMQP handshake succeeds, which a merely open port does not promise.
    while (exitCode === undefined) {
      if (Date.now() - started > this.startTimeoutMs) {
        throw new Error(
          `private RabbitMQ ${this.nodeName} did not start in ${this.startTimeoutMs} ms:\n${this.logTail()}`,
        );
      }
      try {
        const connection = await amqp.connect(this.url, { timeout: 2000 });
        await connection.close().catch(() => {});
        return;
      } catch {
        await sleep(200);
      }
    }
    throw new Error(`private RabbitMQ ${this.nodeName} exited (${exitCode}) while starting:\n${this.logTail()}`);
  }

  async stop(options: StopOptions = {}): Promise<void> {
    if (!this.child) return;
    if (options.via === 'sigterm') {
      // The wrapper shell relays it to the VM, whose signal handler stops RabbitMQ as gracefully as rabbitmqctl does.
      this.child.kill('SIGTERM');
    } else {
      try {
        // With the pid file, rabbitmqctl waits until the Erlang VM has exited.
        await this.ctlWithTimeout(STOP_TIMEOUT_MS, 'stop', this.pidFile);
      } catch (error) {
        console.warn(`private RabbitMQ: rabbitmqctl stop failed (${(error as Error).message}); sending SIGTERM`);
        this.child?.kill('SIGTERM');
      }
    }
    if (await this.exitedWithin(KILL_WAIT_MS)) return;
    console.warn(`private RabbitMQ ${this.nodeName} did not exit; killing it`);
    this.killNow();
    if (!(await this.exitedWithin(KILL_WAIT_MS))) throw new Error(`private RabbitMQ ${this.nodeName} would not die`);
  }

  async kill(): Promise<void> {
    if (!this.child) return;
    this.killNow();
    if (!(await this.exitedWithin(KILL_WAIT_MS))) throw new Error(`private RabbitMQ ${this.nodeName} would not die`);
  }

  async restart(downMs = 0, options: StopOptions = {}): Promise<void> {
    await this.stop(options);
    if (downMs > 0) await sleep(downMs);
    await this.start();
  }

  ctl(...args: string[]): Promise<string> {
    return this.ctlWithTimeout(STOP_TIMEOUT_MS, ...args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.stop();
    } catch (error) {
      console.warn(`private RabbitMQ: ${(error as Error).message}`);
      this.killNow();
    }
    process.removeListener('exit', this.onExit);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The end of what the broker printed, then of its log file. */
  private logTail(): string {
    const tail = (file: string) =>
      existsSync(file) ? readFileSync(file, 'utf8').slice(-OUTPUT_TAIL_CHARS) : '(not written)';
    return `--- ${this.outputFile} ---\n${tail(this.outputFile)}\n--- ${this.logFile} ---\n${tail(this.logFile)}`;
  }

  private async exitedWithin(ms: number): Promise<boolean> {
    if (!this.child) return true;
    const timer = new AbortController();
    const result = await Promise.race([
      this.exited.then(() => true),
      sleep(ms, false, { signal: timer.signal }).catch(() => false),
    ]);
    timer.abort();
    return result;
  }

  /**
   * SIGKILLs the Erlang VM (its pid is in the pid file) and the wrapper shell, only while our child is alive,
   * so a stale pid file can never aim at another process. Synchronous, for the exit hook too.
   */
  private killNow(): void {
    const child = this.child;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const pids = [child.pid];
    try {
      const vm = Number(readFileSync(this.pidFile, 'utf8').trim());
      if (Number.isInteger(vm) && vm > 1) pids.unshift(vm);
    } catch {
      // Not written yet: the VM has not booted that far.
    }
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  private ctlWithTimeout(timeoutMs: number, ...args: string[]): Promise<string> {
    if (!this.env) return Promise.reject(new Error('the broker was never started'));
    return new Promise((resolve, reject) => {
      execFile(
        join(this.scripts, 'rabbitmqctl'),
        ['-n', this.nodeName, ...args],
        { env: this.env, cwd: this.dir, timeout: timeoutMs, killSignal: 'SIGKILL' },
        (error, stdout, stderr) =>
          error ? reject(new Error(`rabbitmqctl ${args.join(' ')}: ${error.message}\n${stderr}`)) : resolve(stdout),
      );
    });
  }

  /** Writes the folder (cookie, empty config and plugin files) and picks the ports; returns the environment. */
  private async prepare(): Promise<NodeJS.ProcessEnv> {
    const [port, distPort] = await freePorts(2);
    this.port = port!;
    this.url = `amqp://guest:guest@127.0.0.1:${port}`;
    const home = join(this.dir, 'home');
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(join(this.dir, sub));
    // Our own cookie: the server and rabbitmqctl find it through HOME, and no other node accepts it.
    writeFileSync(join(home, '.erlang.cookie'), randomBytes(16).toString('hex').toUpperCase(), { mode: 0o400 });
    const config = join(this.dir, 'rabbitmq.conf');
    // Replaces /etc/rabbitmq/rabbitmq.conf, whose listener is the shared broker's 127.0.0.1:5672.
    writeFileSync(
      config,
      [
        `listeners.tcp.default = 127.0.0.1:${port}`,
        // A nearly full test disk must not block publishers.
        'disk_free_limit.absolute = 1MB',
        'log.console = false',
        'log.file.level = info',
        '',
      ].join('\n'),
    );
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    // Replaces /etc/rabbitmq/rabbitmq-env.conf, which names the shared node.
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), '');
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      // Nothing inherited may point this broker at the shared one's settings.
      if (!/^(RABBITMQ_|ERL_)/.test(key)) env[key] = value;
    }
    Object.assign(env, {
      HOME: home,
      RABBITMQ_NODENAME: this.nodeName,
      RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
      RABBITMQ_NODE_PORT: String(port),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_MNESIA_BASE: join(this.dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(this.dir, 'log'),
      RABBITMQ_CONFIG_FILE: config,
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_PID_FILE: this.pidFile,
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    });
    return env;
  }
}

/** Ports free on 127.0.0.1 now (held together, so distinct), avoiding the ones RabbitMQ tools use by default. */
async function freePorts(count: number): Promise<number[]> {
  const servers = [];
  const ports: number[] = [];
  try {
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      const { port } = server.address() as AddressInfo;
      if (!RESERVED_PORTS.has(port)) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}
