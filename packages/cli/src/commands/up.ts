import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { chalkStderr } from 'chalk';
import type { ClusterBackends, ClusterEvent, RunningCluster } from '../cluster/local-cluster.js';
import { lastPort } from '../cluster/ports.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT_FAILURE, EXIT_OK } from '../errors.js';
import { DEFAULT_PROFILE } from '../settings.js';
import { LOG_LEVEL_HELP, logLevel, nonNegativeInteger, port, positiveInteger } from '../options.js';
import type { LogLevel } from '@legim/node';
import {
  clusterView,
  print,
  printJsonLine,
  printNote,
  printProblem,
  backendsJson,
  redactUrl,
  type BackendSummary,
  type ClusterSummary,
} from '../output.js';

interface UpOptions {
  gateways: number;
  nodes: number;
  port: number;
  host: string;
  data?: string;
  database?: string;
  redis?: string;
  redisPrefix?: string;
  amqp?: string;
  queuePrefix?: string;
  logLevel: LogLevel;
  tls?: boolean;
  uploads: 'open' | 'key';
  encrypt?: boolean;
  json?: boolean;
}

const MAX_NODES = 32;
const MAX_GATEWAYS = 8;

export function registerUp(program: Command, context: CliContext): void {
  program
    .command('up')
    .description(
      'run a local cluster: gateways, storage nodes and (with --amqp) an image worker, each its own process (Ctrl-C or SIGTERM stops it); saves the "local" profile, or --profile NAME',
    )
    .option(
      '-g, --gateways <n>',
      `gateway processes sharing one data directory, 1 to ${MAX_GATEWAYS}; more than 1 needs --nodes`,
      gatewayCount,
      1,
    )
    .option(
      '-n, --nodes <n>',
      `storage node processes, 0 to ${MAX_NODES}; 0 stores on the gateway's disk`,
      nodeCount,
      3,
    )
    .option(
      '-p, --port <port>',
      'first port: gateway j (from 0) listens on port + j, then node i (from 1) on port + gateways - 1 + i',
      port,
      3333,
    )
    .option('--host <host>', 'address every process listens on', '127.0.0.1')
    .option('--data <dir>', 'data directory (default $XDG_DATA_HOME/legim or ~/.local/share/legim)')
    .option(
      '--database <url>',
      'the index: sqlite (default, in the data directory) or postgres://user@host:5432/db (env LEGIM_DATABASE_URL)',
    )
    .option(
      '--redis <url>',
      'Redis for download counters, locks and cache invalidation across the gateways (env LEGIM_REDIS_URL; default the index)',
    )
    .option('--redis-prefix <prefix>', 'Redis key prefix (env LEGIM_REDIS_PREFIX; default legim:)')
    .option(
      '--amqp <url>',
      'RabbitMQ for the job queue; then a `legim worker` process makes the previews (env LEGIM_AMQP_URL; default the embedded queue)',
    )
    .option('--queue-prefix <name>', 'queue names (env LEGIM_QUEUE_PREFIX; default legim)')
    .option('--log-level <level>', `${LOG_LEVEL_HELP}; passed to every process`, logLevel, 'info')
    .option(
      '--tls',
      'HTTPS everywhere: makes a CA of its own and a certificate for the host in <data>/tls, and saves the CA in the settings',
    )
    .option(
      '--uploads <mode>',
      'open: anyone may upload; key: uploads need an API key ("legim keys create"), as anything public should',
      uploadMode,
      'open',
    )
    .option(
      '--encrypt',
      'store uploads encrypted, a key per file destroyed with it; the master key is generated into <data>/gateway/master.key ' +
        '(with --database postgres, give it in LEGIM_MASTER_KEY_FILE)',
    )
    .option('--json', 'print JSON lines: one when ready, one per process that exits')
    .addHelpText(
      'after',
      `
Ports: with --port 3333 --gateways 2 --nodes 3 the gateways listen on 3333 and 3334,
the nodes on 3335, 3336 and 3337. Every gateway shares <data>/gateway; the nodes join
the first one, which the saved settings point at.

Examples:
  legim up                                       # a gateway on :3333, nodes on :3334-3336
  legim up --gateways 2 --redis redis://127.0.0.1:6379 --amqp amqp://guest:guest@127.0.0.1:5672
  legim up --tls                                 # the same over HTTPS, with a local CA in <data>/tls
`,
    )
    .action(async (options: UpOptions) => {
      const backends = resolveBackends(options, context.env);
      if (options.port === 0)
        throw new CliError('INVALID_OPTION', 'legim up needs a fixed --port (the other processes listen above it)');
      if (options.gateways > 1 && options.nodes === 0)
        throw new CliError(
          'INVALID_OPTION',
          `--gateways ${options.gateways} needs storage nodes (--nodes 1 or more): a gateway's own disk store cannot be shared`,
        );
      const last = lastPort(options.port, options.gateways, options.nodes);
      if (last > 65535)
        throw new CliError(
          'INVALID_OPTION',
          `--port ${options.port} leaves no room above it for ${describeCount(options.gateways, 'gateway')} and ${describeCount(options.nodes, 'node')} (the last would be ${last}; the highest is 65535)`,
        );
      // `up` writes its own profile: --profile or LEGIM_PROFILE, else `local`, never whichever
      // other profile is the default (it may be a remote cluster's). Checked before anything starts.
      const chosen = context.settings.profile;
      const profile = chosen.source === 'flag' || chosen.source === 'env' ? chosen.name : DEFAULT_PROFILE;
      process.exitCode = await runUp(options, backends, profile, context);
    });
}

function gatewayCount(value: string): number {
  const n = positiveInteger(value);
  if (n > MAX_GATEWAYS) throw new InvalidArgumentError(`expected at most ${MAX_GATEWAYS} gateways`);
  return n;
}

function uploadMode(value: string): 'open' | 'key' {
  if (value !== 'open' && value !== 'key') throw new InvalidArgumentError('expected open or key');
  return value;
}

function nodeCount(value: string): number {
  const n = nonNegativeInteger(value);
  if (n > MAX_NODES) throw new InvalidArgumentError(`expected at most ${MAX_NODES} nodes`);
  return n;
}

function describeCount(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/**
 * Flags, else the environment the gateways would read anyway: `up` decides
 * once, passes its choice to every child, and starts a worker when the jobs
 * go to RabbitMQ. The shapes are checked here so a typo is one line, not a
 * gateway dying at start.
 */
function resolveBackends(options: UpOptions, env: NodeJS.ProcessEnv): ClusterBackends {
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name] || undefined);
  const backends: ClusterBackends = {
    databaseUrl: pick(options.database, 'LEGIM_DATABASE_URL'),
    redisUrl: pick(options.redis, 'LEGIM_REDIS_URL'),
    redisPrefix: pick(options.redisPrefix, 'LEGIM_REDIS_PREFIX'),
    amqpUrl: pick(options.amqp, 'LEGIM_AMQP_URL'),
    queuePrefix: pick(options.queuePrefix, 'LEGIM_QUEUE_PREFIX'),
  };
  const check = (value: string | undefined, valid: RegExp, flag: string, expected: string): void => {
    if (value !== undefined && !valid.test(value))
      throw new CliError('INVALID_OPTION', `invalid ${flag} "${redactUrl(value)}": ${expected}`);
  };
  check(
    backends.databaseUrl,
    /^(sqlite(:.+)?|postgres(ql)?:\/\/.+)$/,
    '--database',
    'expected sqlite, sqlite:<file> or postgres://user@host:5432/database',
  );
  check(backends.redisUrl, /^rediss?:\/\//, '--redis', 'expected redis://[:password@]host:6379[/db]');
  check(backends.redisPrefix, /^[A-Za-z0-9_:.-]{1,60}$/, '--redis-prefix', 'use letters, digits and _ : . -');
  check(backends.amqpUrl, /^amqps?:\/\//, '--amqp', 'expected amqp://user:password@host:5672');
  check(backends.queuePrefix, /^[A-Za-z0-9_]{1,40}$/, '--queue-prefix', 'use letters, digits and _');
  return backends;
}

async function runUp(
  options: UpOptions,
  backends: ClusterBackends,
  profile: string,
  context: CliContext,
): Promise<number> {
  const { defaultDataDir, startLocalCluster } = await import('../cluster/local-cluster.js');
  const dataDir = resolve(options.data ?? defaultDataDir(context.env));
  // node-forge loads only for --tls.
  const tls = options.tls
    ? await (await import('../cluster/local-ca.js')).ensureLocalTls(dataDir, options.host)
    : undefined;
  const abort = new AbortController();
  let cluster: RunningCluster | undefined;
  let ready = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

  // `gateway-1` is one wider than `gateway` and `node-12`.
  const nameWidth = options.gateways > 1 ? 9 : 8;

  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt !== undefined) {
      // Supervisors such as timeout(1) signal both the process and its group:
      // a duplicate within a second is not a user pressing Ctrl-C again.
      if (Date.now() - firstSignalAt < 1000) return;
      printProblem('stopping at once (second signal)');
      cluster?.kill();
      process.exit(EXIT_FAILURE);
    }
    firstSignalAt = Date.now();
    if (!options.json)
      printNote(
        signal === 'SIGINT'
          ? '\nstopping the cluster… (Ctrl-C again to kill it)'
          : `stopping the cluster (${signal})… (a second signal kills it)`,
      );
    abort.abort();
    finish(EXIT_OK);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const onEvent = (event: ClusterEvent): void => {
    if (event.type === 'stderr') {
      process.stderr.write(`${chalkStderr.dim(`${event.name.padEnd(nameWidth)} │ ${event.line}`)}\n`);
      return;
    }
    // Before the cluster is ready, a failed start is reported once, by the start itself.
    if (!ready || event.expected) return;
    if (options.json)
      printJsonLine({ type: 'exit', name: event.name, pid: event.pid, code: event.code, signal: event.signal });
    const how = event.signal ? `was killed by ${event.signal}` : `exited with code ${event.code}`;
    const alive = cluster?.alive ?? 0;
    const rest =
      alive === 0
        ? 'no process is left'
        : alive === 1
          ? '1 other process keeps running'
          : `${alive} other processes keep running`;
    printProblem(`${event.name} (pid ${event.pid}) ${how}; ${rest}`);
    if (alive === 0) finish(EXIT_FAILURE);
  };

  try {
    try {
      cluster = await startLocalCluster({
        gateways: options.gateways,
        nodes: options.nodes,
        port: options.port,
        host: options.host,
        dataDir,
        backends,
        logLevel: options.logLevel,
        tls,
        uploads: options.uploads,
        encrypt: options.encrypt,
        cliPath: context.cliPath,
        env: context.env,
        signal: abort.signal,
        onEvent,
      });
    } catch (error) {
      if (abort.signal.aborted) return EXIT_OK; // Ctrl-C during the start: everything is stopped already
      throw error;
    }
    ready = true;

    try {
      context.settings.save(
        { server: cluster.gateway.url, apiKey: cluster.secrets.adminKey, ...(tls && { ca: tls.ca }) },
        profile,
      );
      const isDefault = context.settings.profiles().some((p) => p.name === profile && p.isDefault);
      const summary: ClusterSummary = {
        pid: process.pid,
        profile: { name: profile, isDefault },
        gateway: cluster.gateway,
        gateways: cluster.gateways,
        nodes: cluster.nodes,
        workers: cluster.workers,
        backends: backendSummary(backends, cluster),
        dataDir: cluster.dataDir,
        settings: context.settings.path,
        ca: tls?.ca,
      };
      if (options.json)
        printJsonLine({
          type: 'ready',
          ...summary,
          profile: summary.profile.name,
          backends: backendsJson(summary.backends),
        });
      else print(clusterView(summary));
      return await finished;
    } finally {
      await cluster.stop();
      if (!options.json) printNote('stopped');
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function backendSummary(backends: ClusterBackends, cluster: RunningCluster): BackendSummary {
  const gateways = cluster.gateways.length === 1 ? 'the gateway' : 'the gateways';
  return {
    databaseUrl: backends.databaseUrl,
    redisUrl: backends.redisUrl,
    redisPrefix: backends.redisPrefix ?? 'legim:',
    amqpUrl: backends.amqpUrl,
    queuePrefix: backends.queuePrefix ?? 'legim',
    jobsRunBy: cluster.workers.length > 0 ? `by the ${cluster.workers[0]!.name} process` : `in ${gateways}`,
  };
}
