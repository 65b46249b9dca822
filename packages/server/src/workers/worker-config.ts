import { LegimError } from '@legim/sdk';
import { parseGatewayConfig, type GatewayFlags } from '../config.js';
import type { WorkerConfig } from './start-worker.js';

export type WorkerFlags = Pick<
  GatewayFlags,
  'data' | 'amqp' | 'queuePrefix' | 'jobAttempts' | 'maxPixels' | 'healthInterval'
> & { concurrency?: string | number | boolean };

/** The worker shares the gateway's settings for what both must agree on (data, queue, limits). */
export function parseWorkerConfig(input: { flags?: WorkerFlags; env?: NodeJS.ProcessEnv }): WorkerConfig {
  const env = input.env ?? {};
  const { concurrency: rawConcurrency, ...shared } = input.flags ?? {};
  const gateway = parseGatewayConfig({ flags: shared, env });
  const raw = rawConcurrency ?? env['LEGIM_WORKER_CONCURRENCY'];
  const concurrency = raw === undefined || raw === '' ? 2 : Number(raw);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
    throw new LegimError('INVALID_OPTION', `invalid concurrency: expected a whole number from 1 to 64, got "${raw}"`);
  }
  return {
    dataDir: gateway.dataDir,
    amqpUrl: gateway.amqpUrl,
    queuePrefix: gateway.queuePrefix,
    jobAttempts: gateway.jobAttempts,
    maxPixels: gateway.maxPixels,
    healthIntervalMs: gateway.healthIntervalMs,
    concurrency,
  };
}
