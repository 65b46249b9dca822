import type { IndexEngine } from '../index-engine.js';
import { openDatabase } from './open-database.js';
import { SqliteDownloadCounter } from './sqlite-download-counter.js';
import { SqliteIndexRows } from './sqlite-index-rows.js';
import { SqliteIndexTotals } from './sqlite-index-totals.js';
import { SqliteKeyStore } from './sqlite-key-store.js';
import { SqliteJobTable } from './sqlite-job-table.js';
import { SqliteLeaseStore } from './sqlite-lease-store.js';
import { SqliteMetadataStore } from './sqlite-metadata-store.js';
import { SqliteOutbox } from './sqlite-outbox.js';
import { SqliteResumeCredits } from './sqlite-resume-credits.js';
import { SqliteTokenBuckets } from './sqlite-token-buckets.js';

/**
 * The embedded engine: one SQLite file in WAL mode, which every gateway and
 * worker on the same host may open at once.
 */
export function openSqliteIndex(path: string): IndexEngine {
  const db = openDatabase(path);
  return {
    kind: 'sqlite',
    metadata: new SqliteMetadataStore(db),
    counter: new SqliteDownloadCounter(db),
    leases: new SqliteLeaseStore(db),
    totals: new SqliteIndexTotals(db),
    keys: new SqliteKeyStore(db),
    buckets: new SqliteTokenBuckets(db),
    credits: new SqliteResumeCredits(db),
    rows: new SqliteIndexRows(db),
    jobTable: async (prefix) => new SqliteJobTable(db, prefix),
    outbox: async (prefix) => new SqliteOutbox(db, prefix),
    reachable: () => true,
    close: async () => void db.close(),
  };
}
