import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { isChildMessage, type ChildMessage } from '../lifecycle.js';

/** What a child reports once ready: the IPC message of a gateway or node, or a worker's `--json` line. */
export type ReadyMessage = ChildMessage | { type: 'ready'; role: 'worker' };

/**
 * How a child says it is ready: `ipc` (`legim server start`, `legim node
 * start` announce themselves to a parent), or `stdout-json` (the first
 * `{"type":"ready"}` line of a command run with `--json`, such as `legim worker`).
 */
export type ReadySignal = 'ipc' | 'stdout-json';

export interface ChildEvents {
  onStderrLine(line: string): void;
  /** The process ended; `stopping` tells whether we asked it to. */
  onExit(code: number | null, signal: NodeJS.Signals | null, stopping: boolean): void;
}

const RECENT_LINES = 5;

/**
 * One `legim server start`, `legim node start` or `legim worker` process
 * forked from this CLI, with its readiness, its stderr lines and its exit tracked.
 */
export class ManagedChild {
  readonly name: string;
  readonly process: ChildProcess;
  readonly ready: Promise<ReadyMessage>;
  readonly exited: Promise<void>;
  /** The last stderr lines, to explain an early exit. */
  readonly recent: string[] = [];
  #alive = true;
  #stopping = false;

  constructor(
    name: string,
    cliPath: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    events: ChildEvents,
    readySignal: ReadySignal = 'ipc',
  ) {
    this.name = name;
    this.process = fork(cliPath, args, {
      env,
      // Own process group: a Ctrl-C in the terminal reaches only `legim up`,
      // which then stops the children in order.
      detached: true,
      // The IPC channel stays in both modes: a child whose parent dies sees it close and stops.
      stdio: ['ignore', readySignal === 'stdout-json' ? 'pipe' : 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const child = this.process;

    if (child.stderr) {
      createInterface({ input: child.stderr, crlfDelay: Infinity }).on('line', (line) => {
        if (line.trim() === '') return;
        this.recent.push(line);
        if (this.recent.length > RECENT_LINES) this.recent.shift();
        events.onStderrLine(line);
      });
    }

    this.exited = new Promise<void>((resolve) => {
      let done = false;
      const finish = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (done) return;
        done = true;
        this.#alive = false;
        events.onExit(code, signal, this.#stopping);
        resolve();
      };
      // 'close', not 'exit': by then every stderr line has been read.
      child.once('close', finish);
      // fork itself failed (rare: no such file, too many processes)
      child.once('error', (error) => {
        this.recent.push(error.message);
        finish(null, null);
      });
    });

    this.ready = new Promise<ReadyMessage>((resolve, reject) => {
      if (readySignal === 'stdout-json' && child.stdout) {
        // Every line is read (a worker prints one per job), so the pipe never fills up.
        createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
          if (isReadyLine(line)) resolve({ type: 'ready', role: 'worker' });
        });
      } else {
        const onMessage = (message: unknown): void => {
          if (!isChildMessage(message)) return;
          child.off('message', onMessage);
          resolve(message);
        };
        child.on('message', onMessage);
      }
      void this.exited.then(() => reject(new Error(this.#explainExit())));
    });
    // A failed start is reported through `ready`; nobody else must see it as unhandled.
    this.ready.catch(() => {});
  }

  get alive(): boolean {
    return this.#alive;
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  /** SIGINT, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    if (!this.#alive) return;
    // Not SIGTERM: that drains a storage node out of the cluster, and this stops the whole cluster.
    this.process.kill('SIGINT');
    const timer = setTimeout(() => {
      if (this.#alive) this.process.kill('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Immediately, for a second Ctrl-C. */
  kill(): void {
    this.#stopping = true;
    if (this.#alive) this.process.kill('SIGKILL');
  }

  #explainExit(): string {
    const { exitCode, signalCode } = this.process;
    const how = signalCode ? `was killed by ${signalCode}` : `exited with code ${exitCode ?? '?'}`;
    const lines = this.recent.map(stripAnsi);
    const last = lines.findLast((line) => line.startsWith('✖')) ?? lines.at(-1);
    return `${this.name} ${how} before it was ready${last ? `: ${last.replace(/^✖\s*/, '')}` : ''}`;
  }
}

function isReadyLine(line: string): boolean {
  try {
    const parsed = JSON.parse(line) as { type?: unknown } | null;
    return typeof parsed === 'object' && parsed !== null && parsed.type === 'ready';
  } catch {
    return false;
  }
}

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}
