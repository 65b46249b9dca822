import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import type { Logger } from '@legim/node';

/**
 * The nice value of the gateway's image process: the lowest priority, so
 * image work gets the CPU time that the gateway and the storage nodes leave
 * idle (measured in bench/README.md, "Processing results").
 */
export const IMAGE_PROCESS_NICE = 19;

/**
 * Lowers this process's CPU priority to `nice` (0 normal, 19 lowest). On
 * Linux a nice value belongs to each thread, and a thread starts with its
 * creator's: every thread running now is lowered (V8's and libuv's, created
 * before any of our code ran), and the threads started later (libuv's pool,
 * libvips' workers) inherit it. Elsewhere it applies to the whole process.
 * Lowering needs no privilege; a failure is reported and ignored.
 */
export function lowerPriority(nice: number, logger: Logger): void {
  try {
    if (process.platform !== 'linux') {
      setPriority(nice);
      return;
    }
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        setPriority(Number(tid), nice);
      } catch (error) {
        // A thread that ended meanwhile.
        if ((error as { info?: { code?: string } }).info?.code !== 'ESRCH') throw error;
      }
    }
  } catch (error) {
    logger.warn(`could not lower the CPU priority to nice ${nice}: ${(error as Error).message}`);
  }
}
