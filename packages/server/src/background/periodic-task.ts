import type { Logger } from '@legim/node';
import { LegimError } from '@legim/sdk';

/**
 * Runs `work` every `intervalMs` and whenever woken, never twice at once: a
 * wake during a run schedules exactly one more run right after it, so work
 * asked for is never lost and bursts of wakes collapse into one pass. A run
 * that fails is logged and the schedule goes on; the next run is the retry.
 * A failure that repeats (a database or node down for a while) is logged
 * once, and its end once, not every interval.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private lastFailure: string | undefined;

  constructor(
    /** What the task does, for the log: "deletion sweep", "replica repair"... */
    private readonly what: string,
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.wake(), this.intervalMs);
    this.timer.unref();
  }

  wake(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.work()
      .then(
        () => this.recovered(),
        (error: unknown) => this.failed(error),
      )
      .finally(() => {
        this.running = undefined;
        if (this.again && this.timer) {
          this.again = false;
          this.wake();
        }
      });
  }

  private failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.lastFailure) return;
    this.lastFailure = message;
    // A typed error says all there is; anything else keeps its stack for whoever reads the log.
    if (LegimError.is(error))
      this.logger.warn({ task: this.what, code: error.code }, `${this.what} failed: ${message}`);
    else this.logger.error({ task: this.what, err: error }, `${this.what} failed`);
  }

  private recovered(): void {
    if (this.lastFailure === undefined) return;
    this.lastFailure = undefined;
    this.logger.info({ task: this.what }, `${this.what} works again`);
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
