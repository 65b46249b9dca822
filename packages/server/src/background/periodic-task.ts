/**
 * Runs `work` every `intervalMs` and whenever woken, never twice at once: a
 * wake during a run schedules exactly one more run right after it, so work
 * asked for is never lost and bursts of wakes collapse into one pass. A run
 * that fails is logged and the schedule goes on; the next run is the retry.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    /** What the task does, for the log: "deletion sweep", "replica repair"... */
    private readonly what: string,
    private readonly work: () => Promise<void>,
    private readonly intervalMs: number,
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
      .catch((error: unknown) => console.error(`legim: ${this.what} failed:`, error))
      .finally(() => {
        this.running = undefined;
        if (this.again && this.timer) {
          this.again = false;
          this.wake();
        }
      });
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
