import type { DatabaseConfig } from '../database-config.js';
import type { IndexEngine, IndexWait } from '../index-engine.js';
import { PostgresDatabase } from './postgres-database.js';
import { PostgresDownloadCounter } from './postgres-download-counter.js';
import { PostgresIndexRows } from './postgres-index-rows.js';
import { PostgresIndexTotals } from './postgres-index-totals.js';
import { PostgresKeyStore } from './postgres-key-store.js';
import { PostgresJobTable } from './postgres-job-table.js';
import { PostgresLeaseStore } from './postgres-lease-store.js';
import { PostgresMetadataStore } from './postgres-metadata-store.js';
import { PostgresOutbox } from './postgres-outbox.js';
import { PostgresResumeCredits } from './postgres-resume-credits.js';
import { PostgresTokenBuckets } from './postgres-token-buckets.js';

/**
 * The distributed engine: one PostgreSQL database (with a standby, see
 * docs/operations.md) shared by gateways and workers on any number of
 * hosts, each with its own data folder.
 */
export async function openPostgresIndex(
  config: Extract<DatabaseConfig, { kind: 'postgres' }>,
  wait: IndexWait = {},
): Promise<IndexEngine> {
  const db = await PostgresDatabase.open({ url: config.url, schema: config.schema, ...wait });
  return {
    kind: 'postgres',
    metadata: new PostgresMetadataStore(db),
    counter: new PostgresDownloadCounter(db),
    leases: new PostgresLeaseStore(db),
    totals: new PostgresIndexTotals(db),
    keys: new PostgresKeyStore(db),
    buckets: new PostgresTokenBuckets(db),
    credits: new PostgresResumeCredits(db),
    rows: new PostgresIndexRows(db),
    jobTable: (prefix) => PostgresJobTable.open(db, prefix),
    outbox: (prefix) => PostgresOutbox.open(db, prefix),
    reachable: () => db.reachable(),
    close: () => db.close(),
  };
}
