import { LegimError } from '@legim/sdk';
import type { IndexEngine } from '../backends/index-engine.js';
import { INDEX_TABLES, type IndexTable } from '../backends/index-rows.js';

export interface CopyProgress {
  table: string;
  rows: number;
}

export interface CopyReport {
  tables: CopyProgress[];
  files: number;
  seconds: number;
}

const PAGE = 1000;

/**
 * Moves a whole index from one engine to another (SQLite to PostgreSQL when
 * a one-host deployment grows into many hosts), page by page with flat
 * memory: files, variants, replicas, tombstones, pending blob deletes, the
 * node list, and the queue's pending jobs. Run it with the gateways
 * stopped; the target must be empty, so a copy never merges two indexes.
 */
export async function copyIndex(
  from: IndexEngine,
  to: IndexEngine,
  options: { queuePrefix: string; onProgress?: (progress: CopyProgress) => void },
): Promise<CopyReport> {
  const started = Date.now();
  for (const table of INDEX_TABLES) {
    if ((await to.rows.read(table, undefined, 1)).length > 0) {
      throw new LegimError(
        'INDEX_NOT_EMPTY',
        `the target index already holds ${table.name}: copy into an empty database or schema`,
      );
    }
  }
  const tables: CopyProgress[] = [];
  for (const table of [...INDEX_TABLES, ...(await jobTables(from, to, options.queuePrefix))]) {
    const copied = { table: table.name, rows: 0 };
    tables.push(copied);
    for (let after: (string | number)[] | undefined; ;) {
      const rows = await from.rows.read(table, after, PAGE);
      await to.rows.write(table, rows);
      copied.rows += rows.length;
      options.onProgress?.({ ...copied });
      if (rows.length < PAGE) break;
      const last = rows.at(-1)!;
      after = table.key.map((column) => last[column] as string | number);
    }
  }
  const [files, copiedFiles] = await Promise.all([from.metadata.countFiles(), to.metadata.countFiles()]);
  if (files !== copiedFiles) {
    throw new LegimError('INTERNAL', `the copy holds ${copiedFiles} files where the source holds ${files}`);
  }
  return { tables, files, seconds: (Date.now() - started) / 1000 };
}

/** The queue's tables that exist in the source, created in the target first. */
async function jobTables(from: IndexEngine, to: IndexEngine, prefix: string): Promise<IndexTable[]> {
  const tables: IndexTable[] = [];
  if (await from.rows.exists(`${prefix}_jobs`)) {
    await to.jobTable(prefix);
    tables.push({ name: `${prefix}_jobs`, key: ['id'] });
  }
  if (await from.rows.exists(`${prefix}_outbox`)) {
    await to.outbox(prefix);
    tables.push({ name: `${prefix}_outbox`, key: ['id'] });
  }
  return tables;
}
