import { join } from 'node:path';
import type { Command } from 'commander';
import { PREVIEW_FLAGS, withPreviewOptions } from './preview-options.js';
import type { CliContext } from '../context.js';
import { announceReady, runUntilStopped } from '../lifecycle.js';
import { LOG_LEVEL_HELP, logLevel, port } from '../options.js';
import type { LogLevel } from '@legim/node';
import { backendRows, backendsJson, formatRows, print, printJsonLine, printNote } from '../output.js';
import { maskSecret } from '../settings.js';
import { explicitOptions } from './explicit-options.js';
import { cliName } from '../invocation.js';
import { TLS_HELP, caFlag, tlsRows } from './tls-options.js';

/** Flags passed through to `parseGatewayConfig`, which validates them. */
const GATEWAY_FLAGS = [
  'port',
  'host',
  'data',
  'publicUrl',
  'adminKey',
  'adminKeyFile',
  'secret',
  'secretFile',
  'database',
  'indexWait',
  'store',
  'replicas',
  'writeQuorum',
  'maxUpload',
  'maxPixels',
  ...PREVIEW_FLAGS,
  'defaultDownloads',
  'maxDownloads',
  'defaultTtl',
  'maxTtl',
  'deleteGrace',
  'resumeWindow',
  'sweepInterval',
  'healthInterval',
  'repairAfter',
  'workers',
  'jobAttempts',
  'amqp',
  'queuePrefix',
  'redis',
  'redisPrefix',
  'tlsCert',
  'tlsKey',
  'allowHttpLoopback',
  'uploads',
  'uploadRate',
  'uploadRatePerAddress',
  'downloadRate',
  'downloadRatePerAddress',
  'authFailureRate',
  'trustedProxy',
  'previewCache',
  'encrypt',
  'masterKeyFile',
] as const;

export function registerServer(program: Command, context: CliContext): void {
  const server = program.command('server').description('run a Legim gateway');

  const start = server.command('start').description('run a gateway in the foreground (Ctrl-C stops it)');
  start
    .option('-p, --port <port>', 'port to listen on (default 3333, env LEGIM_PORT)', port)
    .option('--host <host>', 'address to listen on (default 127.0.0.1, env LEGIM_HOST)')
    .option('--data <dir>', 'data directory (default $XDG_DATA_HOME/legim/gateway, env LEGIM_DATA)')
    .option('--public-url <url>', 'base of the links handed to users (default http://host:port)')
    .option('--admin-key <key>', 'admin API key (default: generated once into the data directory; env LEGIM_ADMIN_KEY)')
    .option('--admin-key-file <path>', 'read the admin key from this file (env LEGIM_ADMIN_KEY_FILE)')
    .option('--secret <secret>', 'cluster secret storage nodes must present (env LEGIM_CLUSTER_SECRET)')
    .option('--secret-file <path>', 'read the cluster secret from this file (env LEGIM_CLUSTER_SECRET_FILE)')
    .option(
      '--database <url>',
      'the index: sqlite (default, in the data directory), sqlite:<file>, or postgres://user@host:5432/db shared by gateways on many hosts (env LEGIM_DATABASE_URL)',
    )
    .option(
      '--index-wait <duration>',
      'how long to wait at start for a PostgreSQL index that cannot be reached yet (default 60s, env LEGIM_INDEX_WAIT)',
    )
    .option('--no-store', 'keep no replicas on this gateway; only on storage nodes')
    .option(
      '--preview-cache <who>',
      'public: CDNs and browsers may keep previews until the file expires (default); private: browsers only (env LEGIM_PREVIEW_CACHE)',
    )
    .option('--replicas <n>', 'copies of each file (default 3)')
    .option('--write-quorum <n>', 'durable copies before an upload succeeds (default 2)')
    .option('--max-upload <size>', 'largest upload, e.g. 100MB')
    .option('--max-pixels <n>', 'largest image in pixels (default 100000000)')
    .option('--default-downloads <n>', 'downloads when the uploader gives none (default 3)')
    .option('--max-downloads <n>', 'most downloads an uploader may ask for (default 1000)')
    .option('--default-ttl <duration>', 'time to live when the uploader gives none (default 1h)')
    .option('--max-ttl <duration>', 'longest time to live (default 30d)')
    .option('--delete-grace <duration>', 'delay between the last download and deletion (default 60s)')
    .option(
      '--resume-window <duration>',
      'how long the client of a cut download may fetch its rest without taking another, up to 1d (default 1h; env LEGIM_RESUME_WINDOW)',
    )
    .option('--sweep-interval <duration>', 'how often expired files are swept (default 1s)')
    .option('--health-interval <duration>', 'how often nodes are probed (default 1s)')
    .option(
      '--repair-after <duration>',
      'how long a node may be down before its copies are made again elsewhere (default 5m; env LEGIM_REPAIR_AFTER)',
    )
    .option(
      '--workers <n>',
      'images made at once by this gateway, in a child process at the lowest CPU priority (default 2; 0 with --amqp)',
    )
    .option('--job-attempts <n>', 'runs of a failing job before it is dead-lettered (default 5)')
    .option('--amqp <url>', 'RabbitMQ URL for the job queue (default: the embedded queue; env LEGIM_AMQP_URL)')
    .option('--queue-prefix <name>', 'queue names (default legim; env LEGIM_QUEUE_PREFIX)')
    .option(
      '--redis <url>',
      'Redis URL for download counters, locks and cache invalidation shared by several gateways (default: the index; env LEGIM_REDIS_URL)',
    )
    .option('--redis-prefix <prefix>', 'prefix of every Redis key (default legim:; env LEGIM_REDIS_PREFIX)')
    .option('--log-level <level>', LOG_LEVEL_HELP, logLevel, 'info')
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate (chain); needs --tls-key (env LEGIM_TLS_CERT)')
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (env LEGIM_TLS_KEY)')
    .option(
      '--allow-http-loopback',
      'with TLS, still send the cluster secret to storage nodes on http://127.0.0.1 (local development; env LEGIM_ALLOW_HTTP_LOOPBACK)',
    )
    .option(
      '--uploads <mode>',
      'open: anyone may upload (a private network); key: uploads need an API key, as anything public should (default open; env LEGIM_UPLOADS)',
    )
    .option(
      '--upload-rate <limit>',
      'uploads per API key, e.g. 60/min, or off (default 60/min with --uploads key, else off; env LEGIM_UPLOAD_RATE)',
    )
    .option(
      '--upload-rate-per-address <limit>',
      'uploads per client address (default 120/min with --uploads key, else off; env LEGIM_UPLOAD_RATE_PER_ADDRESS)',
    )
    .option(
      '--download-rate <limit>',
      'downloads per API key (default 600/min with --uploads key, else off; env LEGIM_DOWNLOAD_RATE)',
    )
    .option(
      '--download-rate-per-address <limit>',
      'downloads per client address (default 300/min with --uploads key, else off; env LEGIM_DOWNLOAD_RATE_PER_ADDRESS)',
    )
    .option(
      '--auth-failure-rate <limit>',
      'failed authentications per client address before it is refused (default 20/min; env LEGIM_AUTH_FAILURE_RATE)',
    )
    .option(
      '--trusted-proxy <cidr...>',
      'proxies (e.g. nginx: 127.0.0.1/32) whose X-Forwarded-For names the client; nobody else is believed (env LEGIM_TRUSTED_PROXY)',
      (cidr: string, previous: string | undefined) => (previous === undefined ? cidr : `${previous},${cidr}`),
    )
    .option(
      '--encrypt',
      'store new uploads encrypted (AES-256-GCM, a key per file, destroyed with the file); default off (env LEGIM_ENCRYPT)',
    )
    .option(
      '--master-key-file <path>',
      'master keys wrapping the file keys, one `kid:base64` a line, the current first (default: <data>/master.key, generated with --encrypt on SQLite; env LEGIM_MASTER_KEY_FILE, or the keys in LEGIM_MASTER_KEY)',
    )
    .option('--json', 'print the gateway address as one JSON line once listening')
    .addHelpText('after', TLS_HELP);
  withPreviewOptions(start).action(async (options: { json?: boolean; logLevel: LogLevel }, command: Command) => {
    // Loaded here so that client commands never load SQLite and sharp.
    const { parseGatewayConfig, startGateway } = await import('@legim/server');
    const { createLogger } = await import('@legim/node');
    const flags = { ...explicitOptions(command, GATEWAY_FLAGS), ...caFlag(context) };
    const config = parseGatewayConfig({ flags, env: context.env });
    const gateway = await startGateway(config, {
      logger: createLogger({ level: options.logLevel, name: 'gateway' }),
    });

    const backends = {
      databaseUrl: config.database.kind === 'postgres' ? config.database.url : undefined,
      redisUrl: config.redisUrl,
      redisPrefix: config.redisPrefix,
      amqpUrl: config.amqpUrl,
      queuePrefix: config.queuePrefix,
      jobsRunBy: config.workers > 0 ? `${config.workers} at once in this gateway` : 'by `legim worker` processes',
    };
    if (options.json) {
      printJsonLine({
        type: 'ready',
        role: 'gateway',
        url: gateway.url,
        dataDir: config.dataDir,
        backends: { ...backendsJson(backends), workers: config.workers },
      });
    } else {
      print(`Legim gateway listening on ${gateway.url}`);
      print(
        formatRows([
          ['data', config.dataDir],
          ['storage', config.store ? "this gateway's disk and any storage nodes" : 'storage nodes only (--no-store)'],
          ['uploads', config.uploads === 'key' ? 'API keys only (--uploads key)' : 'open to anyone who reaches it'],
          ['encryption', config.encrypt ? 'new uploads stored encrypted (--encrypt)' : 'off'],
          ...backendRows(backends),
          ...tlsRows(config.tls),
          [
            'admin key',
            `${maskSecret(gateway.adminKey)}  (${config.adminKey ? 'from --admin-key / LEGIM_ADMIN_KEY' : `kept in ${join(config.dataDir, 'identity.json')}`})`,
          ],
          ['use it', `${cliName()} config set server ${gateway.url}`],
        ]),
      );
      print('Press Ctrl-C to stop');
    }
    announceReady({ type: 'ready', role: 'gateway', url: gateway.url });

    await runUntilStopped(gateway, (reason) => {
      if (!options.json && reason !== 'disconnect') printNote('stopping the gateway…');
    });
  });
}
