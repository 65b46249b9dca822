import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { LogLevel, NodeConfigFlags } from '@legim/node';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { announceReady, runUntilStopped } from '../lifecycle.js';
import { formatBytes, formatRows, print, printJsonLine, printNote, printWarning } from '../output.js';
import { explicitOptions } from './explicit-options.js';
import { LOG_LEVEL_HELP, logLevel } from '../options.js';
import { cliName } from '../invocation.js';
import { TLS_HELP, caFlag, tlsRows } from './tls-options.js';

/** Flags passed through to `parseNodeConfig`, which validates them. */
const NODE_FLAGS = [
  'port',
  'host',
  'data',
  'parent',
  'secret',
  'advertise',
  'capacity',
  'heartbeatMs',
  'scrubRate',
  'tlsCert',
  'tlsKey',
  'allowHttpLoopback',
] as const;

export function registerNode(program: Command, context: CliContext): void {
  const node = program.command('node').description('run a Legim storage node');

  node
    .command('start')
    .description(
      'run a storage node in the foreground and join it to a parent (Ctrl-C stops it; SIGTERM drains it out of the cluster first)',
    )
    .option(
      '--parent <url>',
      'the gateway or cluster node to join: http://10.0.0.6:3333 or 10.0.0.6:3333 (env LEGIM_PARENT)',
    )
    .option('-c, --config <file>', 'a YAML config file (see docs/node-api.md); flags and environment win over it')
    .option('-p, --port <port>', 'port to listen on (default 8888, env LEGIM_NODE_PORT)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--data <dir>', 'data directory for the blobs (default .legim/node-<port>, env LEGIM_NODE_DATA)')
    .option('--secret <secret>', 'the cluster secret shared with the gateway (env LEGIM_CLUSTER_SECRET)')
    .option('--advertise <url>', 'the URL the gateway uses to reach this node (default http://host:port)')
    .option('--capacity <size>', 'most bytes to store, e.g. 10GB (default: the whole disk)')
    .option('--heartbeat-ms <ms>', 'milliseconds between reports to the parent (default 1000)')
    .option(
      '--scrub-rate <rate>',
      'bytes per second for checking blobs against their SHA-256, e.g. 32MB; 0 turns it off (default 32MiB)',
    )
    .option('--log-level <level>', LOG_LEVEL_HELP, logLevel, 'info')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key (env LEGIM_TLS_CERT)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (env LEGIM_TLS_KEY)')
    .option(
      '--allow-http-loopback',
      'with TLS, still send the cluster secret to a parent on http://127.0.0.1 (local development; env LEGIM_ALLOW_HTTP_LOOPBACK)',
    )
    .option('--json', 'print the node address as one JSON line once listening')
    .addHelpText('after', TLS_HELP)
    .action(async (options: { config?: string; json?: boolean; logLevel: LogLevel }, command: Command) => {
      const yamlText = options.config === undefined ? undefined : await readConfigFile(options.config);
      // Loaded here so that client commands never load the node's code.
      const { createLogger, parseNodeConfig, startNode } = await import('@legim/node');
      const config = parseNodeConfig({
        // Every option is a string here; parseNodeConfig validates them all.
        flags: { ...explicitOptions(command, NODE_FLAGS), ...caFlag(context) } as NodeConfigFlags,
        env: context.env,
        ...(yamlText !== undefined && { yamlText }),
      });
      const started = await startNode(config, { logger: createLogger({ level: options.logLevel, name: 'node' }) });

      if (options.json) {
        printJsonLine({ type: 'ready', role: 'node', url: started.url, nodeId: started.nodeId });
      } else {
        print(`Legim storage node ${started.nodeId} listening on ${started.url}`);
        print(
          formatRows([
            ['parent', config.parentUrl ?? 'none (joins no cluster)'],
            ['data', config.dataDir],
            ['capacity', config.capacityBytes === undefined ? 'the whole disk' : formatBytes(config.capacityBytes)],
            ...(config.tls ? tlsRows(config.tls) : []),
          ]),
        );
        print(
          `Press Ctrl-C to stop; "${cliName()} drain ${started.nodeId}" or SIGTERM drains it out of the cluster first`,
        );
      }
      announceReady({ type: 'ready', role: 'node', url: started.url, nodeId: started.nodeId });

      // SIGTERM drains the node into the cluster first; SIGINT (Ctrl-C) just stops it.
      const service = { close: () => started.close(), ...(started.parentLink && { drain: () => started.drain() }) };
      const stopped = runUntilStopped(
        service,
        (reason) => {
          if (options.json || reason === 'disconnect') return;
          printNote(reason === 'SIGTERM' && service.drain ? 'draining the node…' : 'stopping the node…');
        },
        (error) =>
          printWarning(
            `the drain did not finish (${(error as Error).message}); stopping anyway: the cluster makes the missing copies again once the node counts as lost`,
          ),
      );
      // Drained by an operator ("legim drain"): the gateway removed it, so it stops.
      const removed = started.removed.then(() => {
        if (!options.json) printNote('this node was drained and removed from the cluster; stopping');
        return started.close();
      });
      await Promise.race([stopped, removed]);
    });
}

async function readConfigFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CliError('NO_SUCH_FILE', `no such config file: ${path}`);
    throw error;
  }
}
