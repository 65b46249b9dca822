import type { LegimError } from '@legim/sdk';
import type { KeyStore } from '../keys/key-store.js';
import type { JobTable } from '../jobs/job-table.js';
import type { Outbox } from '../jobs/outbox.js';
import type { MetadataStore } from '../metadata/types.js';
import type { TokenBucketStore } from '../rate-limit/token-bucket.js';
import type { IndexTotals } from '../stats/index-totals.js';
import type { IndexDownloadCounter } from './download-counter/download-counter.js';
import type { IndexRows } from './index-rows.js';
import type { LeaseStore } from './locks/lock-service.js';
import type { ResumeCreditStore } from './resume-credits/resume-credit-store.js';

/** The engines that can hold the index; the configuration names one. */
export type IndexEngineKind = 'sqlite' | 'postgres';

/**
 * Everything that lives in the gateway's database, as one engine keeps it:
 * the index, the download ledger, leases, API keys, rate-limit buckets,
 * resume credits and the job tables. The engine
 * owns its connections; nothing about them shows here, and no service ever
 * receives one.
 */
export interface IndexEngine {
  readonly kind: IndexEngineKind;
  readonly metadata: MetadataStore;
  /** Exact on its own (one statement per download); also the ledger a Redis counter is seeded from. */
  readonly counter: IndexDownloadCounter;
  readonly leases: LeaseStore;
  readonly totals: IndexTotals;
  /** API keys and what each key's files hold. */
  readonly keys: KeyStore;
  /** The rate limits' buckets, for gateways without Redis. */
  readonly buckets: TokenBucketStore;
  /** Resume credits of cut downloads, for gateways without Redis. */
  readonly credits: ResumeCreditStore;
  /** Raw rows, for moving a whole index to another engine. */
  readonly rows: IndexRows;
  /** The embedded job queue's table named by `prefix`, created if needed. */
  jobTable(prefix: string): Promise<JobTable>;
  /** The RabbitMQ queue's outbox named by `prefix`, created if needed. */
  outbox(prefix: string): Promise<Outbox>;
  /** Whether the last use of the database succeeded (always true for an embedded file). */
  reachable(): boolean;
  close(): Promise<void>;
}

/** How opening an engine whose server cannot be reached yet waits for it (an engine in a file never waits). */
export interface IndexWait {
  waitMs?: number;
  onWait?: (error: LegimError, retryInMs: number) => void;
}
