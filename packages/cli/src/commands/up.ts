import { InvalidArgumentError, type Command } from 'commander';
import { chalkStderr } from 'chalk';
import type { ClusterEvent, RunningCluster } from '../cluster/local-cluster.js';
import type { CliContext } from '../context.js';
import { CliError, EXIT_FAILURE, EXIT_OK } from '../errors.js';
import { nonNegativeInteger, port } from '../options.js';
import { clusterView, print, printJsonLine, printNote, printProblem } from '../output.js';

interface UpOptions {
  nodes: number;
  port: number;
  host: string;
  data?: string;
  json?: boolean;
}

const MAX_NODES = 32;

export function registerUp(program: Command, context: CliContext): void {
  program
    .command('up')
    .description('run a local cluster: a gateway and storage nodes, each its own process (Ctrl-C stops it)')
    .option(
      '-n, --nodes <n>',
      `storage node processes, 0 to ${MAX_NODES}; 0 stores on the gateway's disk`,
      nodeCount,
      3,
    )
    .option('-p, --port <port>', 'gateway port; node i listens on port + i', port, 3333)
    .option('--host <host>', 'address every process listens on', '127.0.0.1')
    .option('--data <dir>', 'data directory (default $XDG_DATA_HOME/legim or ~/.local/share/legim)')
    .option('--json', 'print JSON lines: one when ready, one per process that exits')
    .action(async (options: UpOptions) => {
      if (options.port === 0)
        throw new CliError('INVALID_OPTION', 'legim up needs a fixed --port (node i listens on port + i)');
      if (options.port + options.nodes > 65535)
        throw new CliError(
          'INVALID_OPTION',
          `--port ${options.port} leaves no room for ${options.nodes} nodes above it`,
        );
      process.exitCode = await runUp(options, context);
    });
}

function nodeCount(value: string): number {
  const n = nonNegativeInteger(value);
  if (n > MAX_NODES) throw new InvalidArgumentError(`expected at most ${MAX_NODES} nodes`);
  return n;
}

async function runUp(options: UpOptions, context: CliContext): Promise<number> {
  const { defaultDataDir, startLocalCluster } = await import('../cluster/local-cluster.js');
  const dataDir = options.data ?? defaultDataDir(context.env);
  const abort = new AbortController();
  let cluster: RunningCluster | undefined;
  let ready = false;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((resolve) => (finish = resolve));

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
    if (!options.json) printNote(`${signal === 'SIGINT' ? '\n' : ''}stopping the cluster… (Ctrl-C again to kill it)`);
    abort.abort();
    finish(EXIT_OK);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const onEvent = (event: ClusterEvent): void => {
    if (event.type === 'stderr') {
      process.stderr.write(`${chalkStderr.dim(`${event.name.padEnd(8)} │ ${event.line}`)}\n`);
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
        nodes: options.nodes,
        port: options.port,
        host: options.host,
        dataDir,
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
      context.settings.save({ server: cluster.gateway.url, apiKey: cluster.secrets.adminKey });
      const summary = {
        gateway: cluster.gateway,
        nodes: cluster.nodes,
        dataDir: cluster.dataDir,
        settings: context.settings.path,
      };
      if (options.json) printJsonLine({ type: 'ready', ...summary });
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
