import { LegimError } from '@legim/sdk';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it as vitestIt } from 'vitest';
import { waitFor } from '../../../test-support/wait.js';
import type { DeadLetter, Job, JobHandler, JobQueue, JobQueueOptions } from '../src/jobs/index.js';

/**
 * Opens queue instances that share one backend and one prefix, as separate
 * processes would (their own connections), and removes what they created.
 */
/** What a test may tune; the harness supplies the logger. */
export type QueueTuning = Omit<JobQueueOptions, 'logger'>;

export interface QueueHarness {
  open(options?: QueueTuning): Promise<JobQueue>;
  cleanup(): Promise<void>;
}

// Small back-off so retries and dead-lettering take well under a second.
const FAST: QueueTuning = { maxAttempts: 3, backoffBaseMs: 50, backoffMaxMs: 400, pollMs: 25 };

/** Records every run, and which jobs ended in a handler that resolved. */
function recorder(work: (job: Job) => Promise<void> = async () => {}) {
  const runs: { job: Job; at: number }[] = [];
  const succeeded = new Map<string, number>();
  const handler: JobHandler = async (job) => {
    runs.push({ job, at: Date.now() });
    await work(job);
    succeeded.set(job.id, (succeeded.get(job.id) ?? 0) + 1);
  };
  return { runs, succeeded, handler };
}

export interface ContractOptions {
  /** Runs only the tests whose title matches: a cheaper pass over what differs between two setups. */
  only?: RegExp;
}

/** The shared contract every `JobQueue` implementation must pass. */
export function jobQueueContract(
  name: string,
  createHarness: () => Promise<QueueHarness>,
  options: ContractOptions = {},
): void {
  const { only } = options;
  const it = (title: string, test: () => Promise<void>) =>
    only && !only.test(title) ? undefined : vitestIt(title, test);
  describe(`JobQueue contract: ${name}`, () => {
    let harness: QueueHarness;
    beforeEach(async () => {
      harness = await createHarness();
    });
    afterEach(() => harness.cleanup());
    const open = (options: QueueTuning = {}) => harness.open({ ...FAST, ...options });

    it('hands each enqueued job to exactly one handler once, with its fields', async () => {
      const [a, b] = [await open(), await open()];
      const seen = recorder();
      await a.consume(seen.handler, { concurrency: 2 });
      await b.consume(seen.handler, { concurrency: 2 });
      const id = await a.enqueue({ type: 'process', fileId: 'file-1', payload: { variants: ['thumb'] } });
      const more = await Promise.all(
        Array.from({ length: 9 }, (_, i) => b.enqueue({ type: 'delete', fileId: `file-${i + 2}` })),
      );
      await waitFor(() => seen.succeeded.size === 10, 'all ten jobs handled');
      await sleep(300);
      expect(seen.runs).toHaveLength(10);
      expect(new Set(seen.runs.map((run) => run.job.id))).toEqual(new Set([id, ...more]));
      expect(seen.runs.find((run) => run.job.id === id)?.job).toEqual({
        id,
        type: 'process',
        fileId: 'file-1',
        attempts: 1,
        payload: { variants: ['thumb'] },
      });
    });

    it('never runs more handlers at once than the concurrency', async () => {
      const queue = await open();
      let active = 0;
      let peak = 0;
      const seen = recorder(async () => {
        peak = Math.max(peak, ++active);
        await sleep(60);
        active--;
      });
      await queue.consume(seen.handler, { concurrency: 3 });
      await Promise.all(Array.from({ length: 12 }, (_, i) => queue.enqueue({ type: 'process', fileId: `f${i}` })));
      await waitFor(() => seen.succeeded.size === 12, 'twelve jobs handled');
      expect(peak).toBe(3);
    });

    it('retries a failing job with exponential back-off until it succeeds', async () => {
      const queue = await open({ maxAttempts: 5, backoffBaseMs: 200, backoffMaxMs: 2000 });
      const seen = recorder(async (job) => {
        if (job.attempts < 3) throw new Error(`flaky ${job.attempts}`);
      });
      await queue.consume(seen.handler, { concurrency: 1 });
      const id = await queue.enqueue({ type: 'process', fileId: 'flaky' });
      await waitFor(() => seen.succeeded.has(id), 'the third attempt to succeed');
      expect(seen.runs.map((run) => run.job.attempts)).toEqual([1, 2, 3]);
      const [first, second, third] = seen.runs.map((run) => run.at) as [number, number, number];
      expect(second - first).toBeGreaterThanOrEqual(190);
      expect(third - second).toBeGreaterThanOrEqual(390);
      expect(third - second).toBeLessThan(2000);
      expect(await queue.deadLetters(10)).toEqual([]);
    });

    it('dead-letters a job that always fails, with its last error, after maxAttempts', async () => {
      const queue = await open();
      const seen = recorder(async (job) => {
        throw new Error(`cannot decode image (attempt ${job.attempts})`);
      });
      const given: DeadLetter[] = [];
      await queue.consume(seen.handler, { concurrency: 2, onDeadLetter: async (letter) => void given.push(letter) });
      const before = Date.now();
      const id = await queue.enqueue({ type: 'process', fileId: 'poison' });
      let dead = await queue.deadLetters(10);
      await waitFor(async () => (dead = await queue.deadLetters(10)).length === 1, 'the job to be dead-lettered');
      expect(dead[0]).toMatchObject({
        job: { id, type: 'process', fileId: 'poison', attempts: 3 },
        error: 'cannot decode image (attempt 3)',
      });
      expect(dead[0]!.failedAt).toBeGreaterThanOrEqual(before);
      expect(given).toEqual(dead); // told once, before the dead letter was recorded
      await sleep(300);
      expect(seen.runs.map((run) => run.job.attempts)).toEqual([1, 2, 3]);
      expect(await queue.deadLetters(10)).toHaveLength(1); // reading does not consume
    });

    it('spends no attempt on runs a dependency outage cut short: waits, capped, then completes', async () => {
      const queue = await open({ transientBackoffMaxMs: 200 });
      const outageRuns = 6; // twice maxAttempts
      const seen = recorder(async () => {
        if (seen.runs.length <= outageRuns) throw new LegimError('UNAVAILABLE', 'the gateway is unreachable');
      });
      const given: DeadLetter[] = [];
      await queue.consume(seen.handler, { concurrency: 1, onDeadLetter: async (letter) => void given.push(letter) });
      const id = await queue.enqueue({ type: 'process', fileId: 'outage' });
      await waitFor(() => seen.succeeded.has(id), 'the job to complete after the outage', 10_000);
      // Every run is the first attempt: none of the outage's runs counted.
      expect(seen.runs.map((run) => run.job.attempts)).toEqual(Array(outageRuns + 1).fill(1));
      const gaps = seen.runs.slice(1).map((run, i) => run.at - seen.runs[i]!.at);
      expect(gaps[0]).toBeGreaterThanOrEqual(45); // the back-off's base
      expect(Math.max(...gaps)).toBeLessThan(1000); // capped at 200 ms, plus polling
      expect(given).toEqual([]);
      expect(await queue.deadLetters(10)).toEqual([]);
    });

    it('counts only the own failures of a job whose runs also meet outages, and dead-letters it after maxAttempts', async () => {
      const queue = await open();
      // Runs alternate: a dependency unreachable, then the job's own failure.
      const seen = recorder(async (job) => {
        if (seen.runs.length % 2 === 1) throw new LegimError('INDEX_UNAVAILABLE', 'the index is unreachable');
        throw new LegimError('INVALID_IMAGE', `not an image (attempt ${job.attempts})`);
      });
      await queue.consume(seen.handler, { concurrency: 1 });
      await queue.enqueue({ type: 'process', fileId: 'poison-in-an-outage' });
      let dead: DeadLetter[] = [];
      await waitFor(async () => (dead = await queue.deadLetters(10)).length === 1, 'the job to be dead-lettered');
      expect(seen.runs.map((run) => run.job.attempts)).toEqual([1, 1, 2, 2, 3, 3]);
      expect(dead[0]).toMatchObject({ job: { attempts: 3 }, error: 'not an image (attempt 3)' });
    });

    it('keeps a given-up job while its dead-letter hook cannot reach a dependency, and records it once after', async () => {
      const queue = await open();
      const seen = recorder(async () => {
        throw new Error('cannot decode image');
      });
      const hookCalls: DeadLetter[] = [];
      const onDeadLetter = async (letter: DeadLetter) => {
        hookCalls.push(letter);
        if (hookCalls.length <= 2) throw new LegimError('UNAVAILABLE', 'the gateway is unreachable');
      };
      await queue.consume(seen.handler, { concurrency: 1, onDeadLetter });
      const id = await queue.enqueue({ type: 'process', fileId: 'poison' });
      await waitFor(() => hookCalls.length === 3, 'the hook to be called a third time');
      let dead: DeadLetter[] = [];
      await waitFor(async () => (dead = await queue.deadLetters(10)).length === 1, 'the job to be dead-lettered');
      await sleep(300);
      expect(await queue.deadLetters(10)).toHaveLength(1);
      expect(hookCalls).toHaveLength(3);
      for (const call of hookCalls) {
        expect(call).toMatchObject({ job: { id, attempts: 3 }, error: 'cannot decode image' });
      }
      expect(dead[0]).toMatchObject({ job: { id, attempts: 3 }, error: 'cannot decode image' });
      expect(seen.runs).toHaveLength(3); // the handler is not run again while the hook waits
    });

    it('counts runs whose worker died, and dead-letters a job that kills every worker after maxAttempts', async () => {
      const options = { maxAttempts: 2, leaseMs: 150 };
      const attempts: number[] = [];
      for (let run = 1; run <= 2; run++) {
        const dying = await open(options);
        if (run === 1) await dying.enqueue({ type: 'process', fileId: 'kills-its-worker' });
        // The handler never returns: the process "dies" with it when the queue is closed.
        await dying.consume((job) => (attempts.push(job.attempts), new Promise(() => {})), { concurrency: 1 });
        await waitFor(() => attempts.length === run, `run ${run} to start`, 10_000);
        await dying.close();
      }
      const last = await open(options);
      const seen = recorder();
      const given: DeadLetter[] = [];
      await last.consume(seen.handler, { concurrency: 1, onDeadLetter: async (letter) => void given.push(letter) });
      const other = await last.enqueue({ type: 'process', fileId: 'fine' });
      let dead: DeadLetter[] = [];
      await waitFor(
        async () => (dead = await last.deadLetters(10)).length === 1,
        'the job to be dead-lettered',
        10_000,
      );
      await waitFor(() => seen.succeeded.has(other), 'the other job');
      expect(attempts).toEqual([1, 2]);
      expect(seen.runs.map((run) => run.job.fileId)).toEqual(['fine']); // not run a third time
      expect(dead[0]).toMatchObject({
        job: { type: 'process', fileId: 'kills-its-worker', attempts: 2 },
        error: 'the worker died 2 times while running this job',
      });
      expect(given).toEqual(dead);
    });

    it('runs a delayed job soon after runAt, never before', async () => {
      const queue = await open();
      const seen = recorder();
      await queue.consume(seen.handler, { concurrency: 1 });
      const runAt = Date.now() + 800;
      const id = await queue.enqueue({ type: 'expire', fileId: 'ttl', runAt });
      await queue.enqueue({ type: 'process', fileId: 'now' });
      await waitFor(() => seen.succeeded.has(id), 'the delayed job');
      const run = seen.runs.find((r) => r.job.id === id)!;
      expect(run.job.runAt).toBe(runAt);
      expect(run.at).toBeGreaterThanOrEqual(runAt);
      expect(run.at).toBeLessThan(runAt + 1000);
      expect(seen.runs[0]!.job.fileId).toBe('now');
    });

    it('keeps one pending job per dedupe key', async () => {
      const queue = await open();
      const runAt = Date.now() + 300;
      const first = await queue.enqueue({ type: 'expire', fileId: 'f', runAt, dedupeKey: 'expire:f' });
      const again = await queue.enqueue({ type: 'expire', fileId: 'f', runAt, dedupeKey: 'expire:f' });
      const other = await queue.enqueue({ type: 'expire', fileId: 'g', runAt, dedupeKey: 'expire:g' });
      expect(again).toBe(first);
      expect(other).not.toBe(first);
      const seen = recorder();
      await queue.consume(seen.handler, { concurrency: 2 });
      await waitFor(() => seen.succeeded.size === 2, 'both keys handled');
      await sleep(200);
      expect(seen.runs.map((run) => run.job.id).sort()).toEqual([first, other].sort());
    });

    it('stop() takes no new jobs and waits for the running handlers to finish', async () => {
      const queue = await open();
      let finished = false;
      const seen = recorder(async () => {
        await sleep(400);
        finished = true;
      });
      const consumer = await queue.consume(seen.handler, { concurrency: 1 });
      const id = await queue.enqueue({ type: 'process', fileId: 'slow' });
      await waitFor(() => seen.runs.length === 1, 'the job to start');
      await consumer.stop();
      expect(finished).toBe(true);
      const later = await queue.enqueue({ type: 'process', fileId: 'after-stop' });
      await sleep(300);
      expect(seen.runs).toHaveLength(1);

      const next = recorder();
      await queue.consume(next.handler, { concurrency: 1 });
      await waitFor(() => next.succeeded.has(later), 'a new consumer to take the waiting job');
      await sleep(200);
      expect(next.runs.map((run) => run.job.id)).toEqual([later]); // the stopped one's job was acknowledged
      expect(seen.succeeded.get(id)).toBe(1);
    });

    it('redelivers the job of a consumer that died to another consumer', async () => {
      const dying = await open({ leaseMs: 400 });
      let release = () => {};
      const hung = recorder(() => new Promise<void>((resolve) => (release = resolve)));
      await dying.consume(hung.handler, { concurrency: 1 });
      const id = await dying.enqueue({ type: 'process', fileId: 'orphan' });
      await waitFor(() => hung.runs.length === 1, 'the first consumer to take the job');
      await dying.close(); // dies holding the job, without acknowledging it

      const survivor = await open({ leaseMs: 400 });
      const seen = recorder();
      await survivor.consume(seen.handler, { concurrency: 1 });
      await waitFor(() => seen.succeeded.has(id), 'the job to be redelivered', 10_000);
      release();
      await sleep(200);
      expect(seen.runs.map((run) => run.job.id)).toEqual([id]);
    });

    it('keeps a delayed job across a restart of the queue', async () => {
      const before = await open();
      const runAt = Date.now() + 600;
      const id = await before.enqueue({ type: 'delete', fileId: 'grace', runAt });
      await before.close();
      const after = await open();
      const seen = recorder();
      await after.consume(seen.handler, { concurrency: 1 });
      await waitFor(() => seen.succeeded.has(id), 'the delayed job after the restart');
      expect(seen.runs[0]!.at).toBeGreaterThanOrEqual(runAt);
    });

    it('loses no job among 200 enqueued at once, some failing once, with concurrency 4', async () => {
      const queue = await open();
      const seen = recorder(async (job) => {
        await sleep(Math.random() * 4);
        if (job.attempts === 1 && Number(job.fileId.slice(1)) % 10 === 0) throw new Error('transient');
      });
      await queue.consume(seen.handler, { concurrency: 4 });
      const ids = await Promise.all(
        Array.from({ length: 200 }, (_, i) => queue.enqueue({ type: 'process', fileId: `f${i}` })),
      );
      await waitFor(() => ids.every((id) => seen.succeeded.has(id)), 'all 200 jobs handled', 30_000);
      expect(new Set(ids).size).toBe(200);
      expect(await queue.deadLetters(10)).toEqual([]);
    });
  });
}
