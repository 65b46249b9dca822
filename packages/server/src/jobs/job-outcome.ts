import type { Logger } from '@legim/node';
import type { ConsumeOptions, DeadLetter } from './job-queue.js';
import { errorMessage, retryDelay, waitDelay, type ResolvedOptions } from './queue-options.js';
import { isTransient } from './transient.js';

/** What a consumer does with a job after a run of its handler. */
export type Outcome =
  | { kind: 'done' }
  /** A dependency was unreachable: run again after `delayMs`, giving the attempt back. */
  | { kind: 'wait'; delayMs: number; error: string }
  /** The job's own failure, with attempts left: run again after `delayMs`; the attempt is spent. */
  | { kind: 'retry'; delayMs: number; error: string }
  | { kind: 'dead'; error: string };

/**
 * Decides a run's outcome. `attempts` is the run that just ended (counting
 * from 1); `waits` how many runs in a row before it ended transiently.
 */
export function outcomeOf(
  failure: { error: unknown } | undefined,
  attempts: number,
  waits: number,
  options: ResolvedOptions,
): Outcome {
  if (!failure) return { kind: 'done' };
  const error = errorMessage(failure.error);
  if (isTransient(failure.error)) return { kind: 'wait', delayMs: waitDelay(waits + 1, options), error };
  if (attempts >= options.maxAttempts) return { kind: 'dead', error };
  return { kind: 'retry', delayMs: retryDelay(attempts, options), error };
}

/**
 * Runs a consumer's dead-letter hook before the dead letter is recorded.
 * Resolves false when the hook failed transiently (what it must reach, e.g.
 * the gateway that marks the file failed, is down): the job is then kept
 * and the hook tried again later, so its reaction is never lost. A hook that
 * fails otherwise is logged, and the job is dead-lettered all the same:
 * trying a broken hook again would keep the job forever.
 */
export async function reactToDeadLetter(
  hook: ConsumeOptions['onDeadLetter'],
  letter: DeadLetter,
  logger: Logger,
): Promise<boolean> {
  try {
    await hook?.(letter);
    return true;
  } catch (error) {
    if (isTransient(error)) {
      logger.warn(
        { jobId: letter.job.id },
        `reacting to the dead-lettered job ${letter.job.id} must wait: ${errorMessage(error)}`,
      );
      return false;
    }
    logger.error({ jobId: letter.job.id, err: error }, `reacting to the dead-lettered job ${letter.job.id} failed`);
    return true;
  }
}
