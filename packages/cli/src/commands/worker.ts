import type { Command } from 'commander';
import { PREVIEW_FLAGS, withPreviewOptions } from './preview-options.js';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { runUntilStopped } from '../lifecycle.js';
import { formatRows, print, printJsonLine, printNote } from '../output.js';
import type { LogLevel } from '@legim/node';
import { explicitOptions } from './explicit-options.js';
import { LOG_LEVEL_HELP, logLevel } from '../options.js';
import { caFlag } from './tls-options.js';

/** Flags passed through to `parseWorkerConfig`, which validates them. */
const WORKER_FLAGS = [
  'gateway',
  'secret',
  'data',
  'database',
  'indexWait',
  'secretFile',
  'amqp',
  'queuePrefix',
  'jobAttempts',
  'maxPixels',
  ...PREVIEW_FLAGS,
  'healthInterval',
  'redis',
  'redisPrefix',
  'concurrency',
  'nice',
  'allowHttpLoopback',
  'masterKeyFile',
] as const;

export function registerWorker(program: Command, context: CliContext): void {
  const worker = program.command('worker');
  worker
    .description(
      'run an image worker: takes jobs (previews, expiry, deletion) from the queue (Ctrl-C stops it). ' +
        'On any host: --gateway URL --secret SECRET --amqp URL. On the gateway host: --data DIR.',
    )
    .option(
      '--gateway <url>',
      "the gateway's URL: the worker reaches the metadata through its internal API, from any host (env LEGIM_GATEWAY_URL)",
    )
    .option(
      '--secret <secret>',
      "the cluster secret, from the gateway's identity.json; needed with --gateway (env LEGIM_CLUSTER_SECRET)",
    )
    .option(
      '--data <dir>',
      "or, on the gateway's host: its data directory, whose database the worker shares (env LEGIM_DATA)",
    )
    .option(
      '--database <url>',
      "with --data: the gateway's index when it is not the SQLite file there, e.g. postgres://user@host:5432/db (env LEGIM_DATABASE_URL)",
    )
    .option(
      '--index-wait <duration>',
      'how long to wait at start for a PostgreSQL index that cannot be reached yet (default 60s, env LEGIM_INDEX_WAIT)',
    )
    .option('--secret-file <path>', 'read the cluster secret from this file (env LEGIM_CLUSTER_SECRET_FILE)')
    .option(
      '--amqp <url>',
      'RabbitMQ URL, e.g. amqp://guest:guest@127.0.0.1:5672; needed with --gateway (default with --data: the embedded queue)',
    )
    .option('--concurrency <n>', 'jobs at once (default 2)')
    .option(
      '--nice <n>',
      'CPU priority, 0 (normal) to 19 (lowest): 19 leaves the CPU to a gateway or node on the same host (env LEGIM_WORKER_NICE)',
    )
    .option('--queue-prefix <name>', 'queue names, as the gateway uses (default legim)')
    .option('--job-attempts <n>', 'runs of a failing job before it is dead-lettered (default 5)')
    .option('--max-pixels <n>', 'largest image in pixels (default 100000000)')
    .option('--health-interval <duration>', 'how often storage nodes are probed (default 1s)')
    .option(
      '--redis <url>',
      "with --data: the gateway's Redis for counters and locks, if it uses one (env LEGIM_REDIS_URL)",
    )
    .option('--redis-prefix <prefix>', 'with --data: Redis key prefix, as the gateway uses (default legim:)')
    .option('--log-level <level>', LOG_LEVEL_HELP, logLevel, 'info')
    .option(
      '--allow-http-loopback',
      'with --ca, still send the cluster secret to a gateway or nodes on http://127.0.0.1 (local development)',
    )
    .option(
      '--master-key-file <path>',
      "with --data: the gateways' master keys, to open encrypted originals (default <data>/master.key; env LEGIM_MASTER_KEY_FILE or LEGIM_MASTER_KEY); with --gateway the gateway hands out each key",
    )
    .option('--json', 'print one JSON line once ready and one per job done')
    .addHelpText(
      'after',
      `
Examples:
  # on any host (the secret is in the gateway's data dir, identity.json)
  legim worker --gateway http://10.0.0.6:3333 --secret "$LEGIM_CLUSTER_SECRET" --amqp amqp://user:pass@10.0.0.5:5672
  # the same over HTTPS, trusting the cluster's CA for the gateway and the nodes
  legim --ca /etc/legim/ca.pem worker --gateway https://10.0.0.6:3333 --secret-file /etc/legim/secret --amqp amqp://user:pass@10.0.0.5:5672
  # on the gateway's host, sharing its database
  legim worker --data ~/.local/share/legim/gateway --amqp amqp://guest:guest@127.0.0.1:5672
`,
    );
  withPreviewOptions(worker).action(async (options: { json?: boolean; logLevel: LogLevel }, command: Command) => {
    // Loaded here so that client commands never load SQLite and sharp.
    const { parseWorkerConfig, startWorker } = await import('@legim/server');
    const { createLogger } = await import('@legim/node');
    const flags = { ...explicitOptions(command, WORKER_FLAGS), ...caFlag(context) };
    const config = parseWorkerConfig({ flags, env: context.env });
    const worker = await startWorker(config, {
      logger: createLogger({ level: options.logLevel, name: 'worker' }),
      onJobDone: (job) => {
        if (options.json) printJsonLine({ type: 'job-done', jobType: job.type, fileId: job.fileId });
      },
    }).catch(async (error: unknown) => {
      const { LegimError } = await import('@legim/sdk');
      // The generic hint for UNAUTHORIZED is about the admin key; a worker's problem is the cluster secret.
      if (LegimError.is(error) && error.code === 'UNAUTHORIZED') {
        throw new CliError(error.code, error.message, { cause: error });
      }
      throw error;
    });
    if (options.json) {
      printJsonLine({ type: 'ready', role: 'worker' });
    } else {
      print('Legim worker running');
      print(
        formatRows([
          ['queue', config.amqpUrl === undefined ? 'embedded (the gateway database)' : 'RabbitMQ'],
          [
            'metadata',
            config.gateway === undefined
              ? `${config.dataDir} (the gateway's database)`
              : `${config.gateway.url} (the gateway's internal API)`,
          ],
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
