import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@legim/node';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessImageOptions, ProcessedVariant } from '../processing/index.js';
import type { ImageProcessMessage, ProcessRequest } from './image-process-protocol.js';
import { deserializeError } from './image-process-protocol.js';
import { IMAGE_PROCESS_NICE } from './lower-priority.js';

/** The built entry beside this module (the gateway always runs from `dist/`). */
const ENTRY = fileURLToPath(new URL('./image-process-child.js', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5000;
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;

export interface ImageProcessOptions {
  /** Images made at once; further calls wait for a slot. Default: no limit. */
  concurrency?: number;
  /** CPU priority of the process, 0 (normal) to 19 (lowest). Default {@link IMAGE_PROCESS_NICE}. */
  nice?: number;
  /** Where its deaths are reported; its level is handed to the child, which logs to the same stderr. */
  logger: Logger;
}

interface Pending {
  resolve(variants: ProcessedVariant[]): void;
  reject(error: Error): void;
}

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  pending: Map<number, Pending>;
  exited: Promise<void>;
  stopping: boolean;
  /** Keeps the gateway's process alive while the child starts or has images in hand, and only then. */
  hold(): void;
}

/**
 * Runs `processImage` in a child process of the gateway, at a lower CPU
 * priority, so that libvips' threads neither take the CPU from the
 * gateway's event loop and the storage nodes when uploads arrive, nor take
 * the gateway down if sharp crashes (a segfault, the OOM killer). The
 * gateway keeps the jobs and all their I/O; the child only turns a spooled
 * original into variants.
 *
 * The child starts with `start()` or the first image and serves every image
 * after it, several at once. If it dies, the images it was making fail with
 * a transient error (their jobs are retried like any failed run) and the
 * next image starts a new child, after a back-off while it keeps dying.
 */
export class ImageProcess {
  private child: Child | undefined;
  private nextId = 1;
  private crashes = 0;
  private restartAt = 0;
  private closed = false;
  private readonly nice: number;
  private readonly slots: Slots;
  private readonly logger: Logger;

  constructor(options: ImageProcessOptions) {
    this.nice = options.nice ?? IMAGE_PROCESS_NICE;
    this.logger = options.logger;
    this.slots = new Slots(options.concurrency ?? Infinity);
  }

  /** `processImage` for a file path, in the child. */
  readonly processImage = async (path: string, options: ProcessImageOptions): Promise<ProcessedVariant[]> => {
    await this.slots.take();
    try {
      return await this.inChild(path, options);
    } finally {
      this.slots.give();
    }
  };

  private async inChild(path: string, options: ProcessImageOptions): Promise<ProcessedVariant[]> {
    const child = await this.running();
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      child.pending.set(id, { resolve, reject });
      child.hold();
      const request: ProcessRequest = { type: 'process', id, path, options };
      child.process.send(request, undefined, undefined, (error) => {
        // Otherwise the exit handler rejects it, with the reason.
        if (error && child.pending.delete(id)) {
          child.hold();
          reject(new Error(`sending an image to the image process failed: ${error.message}`));
        }
      });
    });
  }

  /**
   * Starts the child now rather than with the first image, so that it loads
   * sharp while the gateway starts. Resolves once it is ready, or has failed
   * to start (the next image then tries again, after the back-off); never rejects.
   */
  async start(): Promise<void> {
    if (!this.closed && !this.child && Date.now() >= this.restartAt) this.child = this.spawn();
    await this.child?.ready.catch(() => {});
  }

  /** Stops the child; call once no image is in hand (after the job consumer stopped). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    child.stopping = true;
    if (child.process.connected) child.process.disconnect();
    const timer = setTimeout(() => child.process.kill('SIGKILL'), STOP_GRACE_MS);
    await child.exited;
    clearTimeout(timer);
  }

  private async running(): Promise<Child> {
    if (!this.child) {
      const wait = this.restartAt - Date.now();
      if (wait > 0) await sleep(wait);
    }
    if (this.closed) throw new Error('the image process is stopped: the gateway is shutting down');
    this.child ??= this.spawn();
    const child = this.child;
    await child.ready;
    return child;
  }

  private spawn(): Child {
    const proc = fork(ENTRY, [String(this.nice), this.logger.level], {
      serialization: 'advanced',
      // Nothing is printed on stdout (a gateway's stdout may be read by a supervisor); stderr is passed through.
      stdio: ['ignore', 2, 2, 'ipc'],
      execArgv: [],
    });
    let starting = true;
    let settleReady: (error?: Error) => void = () => {};
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        settleReady(new Error(`the image process did not start within ${START_TIMEOUT_MS / 1000} s`));
        proc.kill('SIGKILL');
      }, START_TIMEOUT_MS).unref();
      settleReady = (error) => {
        clearTimeout(timer);
        starting = false;
        hold();
        if (error) reject(error);
        else resolve();
      };
    });
    // A caller may not be waiting when it fails (the exit handler reports it then).
    ready.catch(() => {});
    let markExited: () => void = () => {};
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const pending = new Map<number, Pending>();
    const hold = () => {
      if (starting || pending.size > 0) {
        proc.ref();
        proc.channel?.ref();
      } else {
        proc.unref();
        proc.channel?.unref();
      }
    };
    const child: Child = { process: proc, ready, pending, exited, stopping: false, hold };
    hold();

    proc.on('message', (message: ImageProcessMessage) => {
      if (message.type === 'ready') return settleReady();
      const request = pending.get(message.id);
      if (!request) return;
      pending.delete(message.id);
      hold();
      if (message.type === 'done') {
        this.crashes = 0;
        request.resolve(message.variants);
      } else {
        request.reject(deserializeError(message.error));
      }
    });
    let gone = false;
    const onGone = (reason: string) => {
      if (gone) return;
      gone = true;
      if (this.child === child) this.child = undefined;
      const error = new Error(
        child.stopping
          ? 'the image process was stopped while making variants: the gateway is shutting down'
          : `the image process died (${reason}) while making variants`,
      );
      settleReady(error);
      for (const request of pending.values()) request.reject(error);
      pending.clear();
      if (!child.stopping) {
        const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** this.crashes++);
        this.restartAt = Date.now() + delay;
        this.logger.error(`the image process died (${reason}); the next image restarts it in ${delay} ms or more`);
      }
      markExited();
    };
    proc.once('exit', (code, signal) => onGone(signal ? `signal ${signal}` : `exit code ${code}`));
    // Only when it could not be started at all does 'error' come without 'exit'.
    proc.once('error', (error) => {
      if (proc.pid === undefined) onGone(`could not start: ${error.message}`);
    });
    return child;
  }
}

/** A counting semaphore: at most `size` holders, the others wait in order. */
class Slots {
  private used = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly size: number) {}

  async take(): Promise<void> {
    if (this.used < this.size) {
      this.used++;
      return;
    }
    // give() hands its slot straight to the first in line.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used--;
  }
}
