import { PeriodicTask } from '../background/periodic-task.js';
import type { FileReaper } from './file-reaper.js';

/**
 * The backstop of expiry and deletion: on a fixed interval (and when woken)
 * it reaps every file that is due, whether or not its job ran, and retries
 * blob deletes that a node did not confirm yet.
 */
export class DeletionSweeper {
  private readonly task: PeriodicTask;

  constructor(
    private readonly reaper: FileReaper,
    intervalMs: number,
  ) {
    this.task = new PeriodicTask(() => this.sweep(), intervalMs);
  }

  start(): void {
    this.task.start();
  }

  /** Runs a pass soon (a file was just deleted). */
  wake(): void {
    this.task.wake();
  }

  stop(): Promise<void> {
    return this.task.stop();
  }

  /** One full pass; exposed for tests and shutdown. */
  async sweep(): Promise<void> {
    try {
      await this.reaper.reapDue();
    } catch (error) {
      console.error('legim: deletion sweep failed:', error);
    }
  }
}
