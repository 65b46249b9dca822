import { LegimError } from '@legim/sdk';
import type { PeerTls } from '@legim/node';
import type { DatabaseConfig } from '../backends/database-config.js';
import { parseGatewayConfig, type GatewayConfig, type GatewayFlags } from '../config.js';
import type { JobBackoff } from '../jobs/index.js';
import type { MasterKeys } from '../encryption/master-keys.js';

export interface WorkerSettings extends Pick<
  GatewayConfig,
  | 'amqpUrl'
  | 'queuePrefix'
  | 'jobAttempts'
  | 'maxPixels'
  | 'healthIntervalMs'
  | 'redisUrl'
  | 'redisPrefix'
  | 'indexWaitMs'
  | 'variants'
  | 'purge'
> {
  /** With `--data`: the gateways' master keys (default `<data>/master.key`); with `--gateway` the gateway unwraps. */
  masterKeys?: MasterKeys;
  /** Jobs run at once. */
  concurrency: number;
  /** How the gateway and the storage nodes are reached: the CA to trust, and whether http:// is refused (default: plain HTTP allowed). */
  peers?: PeerTls;
  /** The job queue's back-off (default: the queue's own); not a CLI flag, for tests and embedding. */
  jobBackoff?: JobBackoff;
  /**
   * Lowers this process's CPU priority (0 normal, 19 lowest) as it starts,
   * e.g. for a worker beside a gateway or storage node; unset leaves it.
   */
  nice?: number;
}

/** How a worker on another host reaches the gateway's internal API. */
export interface GatewayLink {
  url: string;
  clusterSecret: string;
}

/**
 * Where the worker finds the metadata: the gateway's index (its data
 * directory for the identity, and its database: the SQLite file on the
 * gateway's host, or PostgreSQL from any host) or the gateway's URL and the
 * cluster secret (any host; needs RabbitMQ for the jobs).
 */
export type WorkerConfig = WorkerSettings &
  (
    | { dataDir: string; database: DatabaseConfig; gateway?: undefined }
    | { gateway: GatewayLink; dataDir?: undefined; database?: undefined }
  );

export type WorkerFlags = Pick<
  GatewayFlags,
  | 'data'
  | 'database'
  | 'indexWait'
  | 'secret'
  | 'secretFile'
  | 'amqp'
  | 'queuePrefix'
  | 'jobAttempts'
  | 'maxPixels'
  | 'variants'
  | 'purgeUrl'
  | 'purgeMethod'
  | 'purgeHeader'
  | 'healthInterval'
  | 'redis'
  | 'redisPrefix'
  | 'ca'
  | 'allowHttpLoopback'
  | 'masterKeyFile'
> & { concurrency?: string | number | boolean; gateway?: string | number | boolean; nice?: string | number | boolean };

/**
 * The worker shares the gateway's settings for what both must agree on
 * (queue, limits). It reaches the metadata through `--data` (the gateway's
 * directory, same host) or `--gateway` with the cluster secret (any host);
 * flags win over the environment (`LEGIM_DATA`, `LEGIM_GATEWAY_URL`).
 */
export function parseWorkerConfig(input: { flags?: WorkerFlags; env?: NodeJS.ProcessEnv }): WorkerConfig {
  const env = input.env ?? {};
  const { concurrency: rawConcurrency, gateway: gatewayFlag, nice: niceFlag, ...shared } = input.flags ?? {};
  const gateway = parseGatewayConfig({ flags: shared, env });
  const raw = rawConcurrency ?? env['LEGIM_WORKER_CONCURRENCY'];
  const concurrency = raw === undefined || raw === '' ? 2 : Number(raw);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new LegimError('INVALID_OPTION', `invalid concurrency: expected a whole number from 1 to 64, got "${raw}"`);
  }
  const settings = {
    amqpUrl: gateway.amqpUrl,
    queuePrefix: gateway.queuePrefix,
    jobAttempts: gateway.jobAttempts,
    maxPixels: gateway.maxPixels,
    healthIntervalMs: gateway.healthIntervalMs,
    redisUrl: gateway.redisUrl,
    redisPrefix: gateway.redisPrefix,
    indexWaitMs: gateway.indexWaitMs,
    variants: gateway.variants,
    purge: gateway.purge,
    ...(gateway.masterKeys && { masterKeys: gateway.masterKeys }),
    peers: gateway.tls.peers,
    concurrency,
    nice: parseNice(niceFlag ?? env['LEGIM_WORKER_NICE']),
  };
  const gatewayUrl = pickGatewayUrl(gatewayFlag, shared.data, env);
  if (gatewayUrl === undefined) return { ...settings, dataDir: gateway.dataDir, database: gateway.database };
  if (shared.database !== undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      'a worker started with --gateway reads the index through the gateway: drop --database, or use --data with it',
    );
  }
  if (gateway.clusterSecret === undefined) {
    throw new LegimError(
      'INVALID_OPTION',
      "a worker started with --gateway needs the cluster secret: pass the one in the gateway's identity.json " +
        'with --secret or LEGIM_CLUSTER_SECRET',
    );
  }
  return { ...settings, gateway: { url: gatewayUrl, clusterSecret: gateway.clusterSecret } };
}

/** A CPU priority for the worker process: 0 (normal) to 19 (lowest); unset leaves it as started. */
function parseNice(raw: string | number | boolean | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const nice = Number(raw);
  if (typeof raw === 'boolean' || !Number.isInteger(nice) || nice < 0 || nice > 19) {
    throw new LegimError(
      'INVALID_OPTION',
      `invalid nice: expected a whole number from 0 (normal) to 19 (lowest), got "${raw}"`,
    );
  }
  return nice;
}

/** `--gateway`, else `LEGIM_GATEWAY_URL` unless `--data` was given; both flags at once is a mistake. */
function pickGatewayUrl(
  flag: string | number | boolean | undefined,
  dataFlag: string | number | boolean | undefined,
  env: NodeJS.ProcessEnv,
): string | undefined {
  const given = (value: unknown) => value !== undefined && value !== '';
  if (given(flag) && given(dataFlag)) {
    throw new LegimError(
      'INVALID_OPTION',
      "give either --gateway (a worker on any host) or --data (on the gateway's host), not both",
    );
  }
  const raw = given(flag) ? String(flag) : given(dataFlag) ? undefined : env['LEGIM_GATEWAY_URL'] || undefined;
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LegimError('INVALID_OPTION', `invalid gateway: expected the gateway's http(s) URL, got "${raw}"`);
  }
  return url.toString().replace(/\/+$/, '');
}
