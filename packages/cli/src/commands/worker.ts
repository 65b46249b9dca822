import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { runUntilStopped } from '../lifecycle.js';
import { formatRows, print, printJsonLine, printNote } from '../output.js';
import { explicitOptions } from './explicit-options.js';

/** Flags passed through to `parseWorkerConfig`, which validates them. */
const WORKER_FLAGS = [
  'data',
  'amqp',
  'queuePrefix',
  'jobAttempts',
  'maxPixels',
  'healthInterval',
  'concurrency',
] as const;

export function registerWorker(program: Command, context: CliContext): void {
  program
    .command('worker')
    .description('run an image worker: takes processing jobs and makes thumbnails and previews (Ctrl-C stops it)')
    .option('--data <dir>', "the gateway's data directory, whose metadata the worker shares (env LEGIM_DATA)")
    .option('--amqp <url>', 'RabbitMQ URL, e.g. amqp://guest:guest@127.0.0.1:5672 (default: the embedded queue)')
    .option('--concurrency <n>', 'jobs at once (default 2)')
    .option('--queue-prefix <name>', 'queue names, as the gateway uses (default legim)')
    .option('--job-attempts <n>', 'runs of a failing job before it is dead-lettered (default 5)')
    .option('--max-pixels <n>', 'largest image in pixels (default 100000000)')
    .option('--health-interval <duration>', 'how often storage nodes are probed (default 1s)')
    .option('--json', 'print one JSON line once ready and one per job done')
    .action(async (options: { json?: boolean }, command: Command) => {
      // Loaded here so that client commands never load SQLite and sharp.
      const { parseWorkerConfig, startWorker } = await import('@legim/server');
      const config = parseWorkerConfig({ flags: explicitOptions(command, WORKER_FLAGS), env: context.env });
      const worker = await startWorker(config, {
        onJobDone: (job) => {
          if (options.json) printJsonLine({ type: 'job-done', jobType: job.type, fileId: job.fileId });
        },
      });
      if (options.json) {
        printJsonLine({ type: 'ready', role: 'worker' });
      } else {
        print('Legim worker running');
        print(
          formatRows([
            ['queue', config.amqpUrl === undefined ? 'embedded (the gateway database)' : 'RabbitMQ'],
            ['data', config.dataDir],
            ['at once', String(config.concurrency)],
          ]),
        );
        print('Press Ctrl-C to stop');
      }
      await runUntilStopped(worker, (reason) => {
        if (!options.json && reason !== 'disconnect') printNote('finishing the jobs in hand…');
      });
    });
}
