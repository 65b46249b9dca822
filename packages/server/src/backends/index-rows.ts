/** A row as both engines store it: column name → text, integer (epoch ms included) or null. */
export type IndexRow = Record<string, string | number | null>;

/** The tables of an index, parents before children, each with the columns that order and page it. */
export const INDEX_TABLES = [
  { name: 'nodes', key: ['id'] },
  { name: 'api_keys', key: ['id'] },
  { name: 'files', key: ['id'] },
  { name: 'variants', key: ['file_id', 'name'] },
  { name: 'replicas', key: ['blob_key', 'node_id'] },
  { name: 'tombstones', key: ['id'] },
  { name: 'pending_blob_deletes', key: ['node_id', 'blob_key'] },
] as const;

export interface IndexTable {
  name: string;
  key: readonly string[];
}

/**
 * Raw rows of the index, for moving a whole index from one engine to the
 * other (`legim index copy`). Both engines use the same tables, columns
 * and values, so rows move as they are; the totals are kept by each
 * engine's triggers as the rows arrive.
 */
export interface IndexRows {
  /** The `limit` rows after `after` (the key columns' values of the last row read), in key order. */
  read(table: IndexTable, after: (string | number)[] | undefined, limit: number): Promise<IndexRow[]>;
  /** Inserts the rows in one transaction. */
  write(table: IndexTable, rows: IndexRow[]): Promise<void>;
  /** Whether the table exists (job tables exist once a queue with their prefix was opened). */
  exists(table: string): Promise<boolean>;
}
