import {
  TOMBSTONE_MS,
  type BlobLocation,
  type DeleteReason,
  type FileFilter,
  type FileRecord,
  type LimitsChange,
  type MetadataStore,
  type NodeMembership,
  type NodeRecord,
  type ReplicaState,
  type RestoreOutcome,
  type RestoredFile,
  type StoredBlob,
  type StoredQuota,
  type Tombstone,
  type VariantRecord,
  type WrappedKey,
} from '../../metadata/types.js';
import type { KeyUsage } from '../../keys/api-key.js';
import { checkStoredQuota } from '../../keys/quota-errors.js';
import {
  FILE_COLUMNS,
  FILE_PLACEHOLDERS,
  fileValues,
  fromRow,
  variantFromRow,
  type FileRow,
  type VariantRow,
} from '../file-rows.js';
import type { PostgresDatabase } from './postgres-database.js';
import type { Queryable } from './queryable.js';

const INSERT_REPLICA = `INSERT INTO replicas (file_id, blob_key, node_id, state, since)
  SELECT id, $2, $3, $4, $5 FROM files WHERE id = $1
  ON CONFLICT (blob_key, node_id) DO UPDATE SET state = excluded.state`;
const QUEUE_BLOB_DELETE = `INSERT INTO pending_blob_deletes (node_id, blob_key, not_before) VALUES ($1, $2, $3)
  ON CONFLICT (node_id, blob_key) DO UPDATE SET not_before = excluded.not_before`;
const CLEAR_INTENT = 'DELETE FROM pending_blob_deletes WHERE blob_key = $1 AND not_before > $2';

/**
 * The index in PostgreSQL, shared by gateways and workers on any number of
 * hosts. The statements mirror the SQLite engine's one for one; writes that
 * span tables run in one transaction, and the races SQLite avoided by
 * serialising writers are closed here by row locks (`FOR UPDATE`) or by
 * single statements.
 */
export class PostgresMetadataStore implements MetadataStore {
  constructor(private readonly db: PostgresDatabase) {}

  async recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void> {
    await this.db.query(
      `INSERT INTO pending_blob_deletes (node_id, blob_key, not_before) SELECT unnest($1::text[]), $2, $3
       ON CONFLICT (node_id, blob_key) DO UPDATE SET not_before = excluded.not_before`,
      [nodeIds, key, until],
    );
  }

  async abandonUpload(key: string, now: number): Promise<void> {
    await this.db.query('UPDATE pending_blob_deletes SET not_before = $1 WHERE blob_key = $2', [now, key]);
  }

  async insertFile(
    file: FileRecord,
    replicas: { durable: string[]; pending: string[] },
    now: number,
    quota?: StoredQuota,
    key?: WrappedKey,
  ): Promise<void> {
    await this.db.transaction(async (tx) => {
      if (quota && file.keyId !== null) checkStoredQuota(quota, await lockedUsage(tx, file.keyId, now), file.size);
      await tx.query(`INSERT INTO files (${FILE_COLUMNS}) VALUES (${FILE_PLACEHOLDERS})`, fileValues(file));
      if (key) {
        await tx.query('UPDATE files SET master_kid = $1, wrapped_key = $2 WHERE id = $3', [
          key.kid,
          key.wrapped,
          file.id,
        ]);
      }
      for (const [state, nodeIds] of [
        ['durable', replicas.durable],
        ['pending', replicas.pending],
      ] as const) {
        for (const nodeId of nodeIds) await tx.query(INSERT_REPLICA, [file.id, file.id, nodeId, state, now]);
      }
      await tx.query(CLEAR_INTENT, [file.id, now]);
    });
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const [row] = await this.db.query<FileRow>(`SELECT ${FILE_COLUMNS} FROM files WHERE id = $1`, [id]);
    return row && fromRow(row);
  }

  async getTombstone(id: string): Promise<Tombstone | undefined> {
    const [row] = await this.db.query<{
      id: string;
      reason: DeleteReason;
      deleted_at: number;
      key_destroyed_at: number | null;
    }>('SELECT id, reason, deleted_at, key_destroyed_at FROM tombstones WHERE id = $1', [id]);
    return (
      row && {
        id: row.id,
        reason: row.reason,
        deletedAt: row.deleted_at,
        ...(row.key_destroyed_at !== null && { keyDestroyedAt: row.key_destroyed_at }),
      }
    );
  }

  async wrappedKey(fileId: string): Promise<WrappedKey | undefined> {
    const [row] = await this.db.query<{ master_kid: string; wrapped_key: string }>(
      'SELECT master_kid, wrapped_key FROM files WHERE id = $1 AND wrapped_key IS NOT NULL',
      [fileId],
    );
    return row && { kid: row.master_kid, wrapped: row.wrapped_key };
  }

  async destroyFileKey(fileId: string, now: number): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE files SET wrapped_key = NULL, key_destroyed_at = $2 WHERE id = $1 AND wrapped_key IS NOT NULL RETURNING id',
      [fileId, now],
    );
    return rows.length > 0;
  }

  async keysNotWrappedBy(kid: string, afterId: string, limit: number): Promise<{ fileId: string; key: WrappedKey }[]> {
    const rows = await this.db.query<{ id: string; master_kid: string; wrapped_key: string }>(
      `SELECT id, master_kid, wrapped_key FROM files
       WHERE wrapped_key IS NOT NULL AND master_kid <> $1 AND id > $2 ORDER BY id LIMIT $3`,
      [kid, afterId, limit],
    );
    return rows.map((row) => ({ fileId: row.id, key: { kid: row.master_kid, wrapped: row.wrapped_key } }));
  }

  async rewrapFileKey(fileId: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE files SET master_kid = $1, wrapped_key = $2
       WHERE id = $3 AND master_kid = $4 AND wrapped_key = $5 RETURNING id`,
      [to.kid, to.wrapped, fileId, from.kid, from.wrapped],
    );
    return rows.length > 0;
  }

  async fileKeyCounts(): Promise<Record<string, number>> {
    const rows = await this.db.query<{ master_kid: string; n: number }>(
      'SELECT master_kid, count(*)::int AS n FROM files WHERE wrapped_key IS NOT NULL GROUP BY master_kid',
    );
    return Object.fromEntries(rows.map((row) => [row.master_kid, row.n]));
  }

  async replicaNodes(blobKey: string): Promise<string[]> {
    const rows = await this.db.query<{ node_id: string }>(
      `SELECT node_id FROM replicas WHERE blob_key = $1 ORDER BY state = 'durable' DESC, node_id`,
      [blobKey],
    );
    return rows.map((row) => row.node_id);
  }

  async recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    now: number,
  ): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Locks the file row: a purge running at the same time waits, so no variant outlives its file.
      const [file] = await tx.query('SELECT id FROM files WHERE id = $1 FOR UPDATE', [fileId]);
      if (!file) return false;
      for (const { variant, nodeIds } of variants) {
        const blobKey = `${fileId}.${variant.name}`;
        await tx.query(
          `INSERT INTO variants (${VARIANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (file_id, name) DO UPDATE SET content_type = excluded.content_type, width = excluded.width,
             height = excluded.height, size = excluded.size, sha256 = excluded.sha256,
             sealed_size = excluded.sealed_size, sealed_sha256 = excluded.sealed_sha256`,
          variantValues(fileId, variant),
        );
        for (const nodeId of nodeIds) await tx.query(INSERT_REPLICA, [fileId, blobKey, nodeId, 'durable', now]);
        await tx.query(CLEAR_INTENT, [blobKey, now]);
      }
      await tx.query(`UPDATE files SET status = 'ready', status_reason = NULL WHERE id = $1`, [fileId]);
      return true;
    });
  }

  async listVariants(fileId: string): Promise<VariantRecord[]> {
    return listVariants(this.db, fileId);
  }

  async staleProcessing(before: number, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `SELECT id FROM files WHERE status = 'processing' AND created_at < $1 AND expires_at > $2 AND delete_at IS NULL
       LIMIT $3`,
      [before, Date.now(), limit],
    );
    return rows.map((row) => row.id);
  }

  async markFailed(fileId: string, reason: string): Promise<void> {
    await this.db.query(`UPDATE files SET status = 'failed', status_reason = $1 WHERE id = $2`, [reason, fileId]);
  }

  async addReplica(fileId: string, blobKey: string, nodeId: string, now: number): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const added = await tx
        .query(`${INSERT_REPLICA} RETURNING node_id`, [fileId, blobKey, nodeId, 'durable', now])
        .catch(fileGone);
      if (added.length === 0) return false;
      await tx.query('DELETE FROM pending_blob_deletes WHERE node_id = $1 AND blob_key = $2 AND not_before > $3', [
        nodeId,
        blobKey,
        now,
      ]);
      return true;
    });
  }

  async dropReplica(blobKey: string, nodeId: string, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query('DELETE FROM replicas WHERE blob_key = $1 AND node_id = $2', [blobKey, nodeId]);
      await tx.query(QUEUE_BLOB_DELETE, [nodeId, blobKey, now]);
    });
  }

  async replicaStates(blobKey: string): Promise<ReplicaState[]> {
    return replicaStates(this.db, blobKey);
  }

  async stalePendingReplicas(before: number, limit: number): Promise<{ file: FileRecord; nodeId: string }[]> {
    const rows = await this.db.query<FileRow & { node_id: string }>(
      `SELECT ${prefixed('f', FILE_COLUMNS)}, r.node_id FROM replicas r JOIN files f ON f.id = r.file_id
       WHERE r.state = 'pending' AND r.blob_key = r.file_id AND r.since < $1 LIMIT $2`,
      [before, limit],
    );
    return rows.map((row) => ({ file: fromRow(row), nodeId: row.node_id }));
  }

  async scheduleDeletion(id: string, at: number, reason: DeleteReason): Promise<boolean> {
    const rows = await this.db.query(
      `UPDATE files SET delete_at = $2, delete_reason = $3
       WHERE id = $1 AND (delete_at IS NULL OR delete_at > $2) RETURNING id`,
      [id, at, reason],
    );
    return rows.length > 0;
  }

  async dueForDeletion(now: number, limit: number): Promise<FileRecord[]> {
    // Two indexed ranges rather than one OR, which PostgreSQL would answer with a scan of the table.
    const rows = await this.db.query<FileRow>(
      `SELECT ${FILE_COLUMNS} FROM (
         (SELECT ${FILE_COLUMNS} FROM files WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2)
         UNION
         (SELECT ${FILE_COLUMNS} FROM files WHERE delete_at <= $1 ORDER BY delete_at LIMIT $2)
       ) due ORDER BY expires_at LIMIT $2`,
      [now, limit],
    );
    return rows.map(fromRow);
  }

  async purgeFile(id: string, reason: DeleteReason, now: number): Promise<void> {
    await this.db.transaction(async (tx) => {
      // The file row is locked first, so copies recorded by a concurrent writer are either in the queue below or refused.
      const [key] = await tx.query<{ sealed_sha256: string | null; key_destroyed_at: number | null }>(
        'SELECT sealed_sha256, key_destroyed_at FROM files WHERE id = $1 FOR UPDATE',
        [id],
      );
      // An encrypted file's key goes with its row: the tombstone keeps when (an earlier DELETE's time, or now).
      const keyDestroyedAt = key?.sealed_sha256 ? (key.key_destroyed_at ?? now) : null;
      await tx.query(
        `INSERT INTO pending_blob_deletes (node_id, blob_key, not_before)
         SELECT node_id, blob_key, $1 FROM replicas WHERE file_id = $2
         ON CONFLICT (node_id, blob_key) DO UPDATE SET not_before = excluded.not_before`,
        [now, id],
      );
      await tx.query('DELETE FROM files WHERE id = $1', [id]);
      await tx.query(
        `INSERT INTO tombstones (id, reason, deleted_at, key_destroyed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET reason = excluded.reason, deleted_at = excluded.deleted_at,
           key_destroyed_at = excluded.key_destroyed_at`,
        [id, reason, now, keyDestroyedAt],
      );
      await tx.query('DELETE FROM tombstones WHERE deleted_at < $1', [now - TOMBSTONE_MS]);
    });
  }

  async queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void> {
    if (locations.length === 0) return;
    await this.db.query(
      `INSERT INTO pending_blob_deletes (node_id, blob_key, not_before)
       SELECT DISTINCT ON (node_id, blob_key) node_id, blob_key, $3 FROM unnest($1::text[], $2::text[]) AS l (node_id, blob_key)
       ON CONFLICT (node_id, blob_key) DO UPDATE SET not_before = excluded.not_before`,
      [locations.map((l) => l.nodeId), locations.map((l) => l.key), now],
    );
  }

  async pendingBlobDeletes(now: number, limit: number, nodeIds: string[]): Promise<BlobLocation[]> {
    const rows = await this.db.query<{ node_id: string; blob_key: string }>(
      `SELECT node_id, blob_key FROM pending_blob_deletes WHERE not_before <= $1 AND node_id = ANY($2::text[])
       ORDER BY not_before LIMIT $3`,
      [now, nodeIds, limit],
    );
    return rows.map((row) => ({ nodeId: row.node_id, key: row.blob_key }));
  }

  async deferPendingBlobDelete(location: BlobLocation, at: number): Promise<void> {
    await this.db.query('UPDATE pending_blob_deletes SET not_before = $1 WHERE node_id = $2 AND blob_key = $3', [
      at,
      location.nodeId,
      location.key,
    ]);
  }

  async clearPendingBlobDelete(location: BlobLocation): Promise<void> {
    await this.db.query('DELETE FROM pending_blob_deletes WHERE node_id = $1 AND blob_key = $2', [
      location.nodeId,
      location.key,
    ]);
  }

  async walkBlobs(afterKey: string, limit: number): Promise<{ lastKey: string | undefined; short: string[] }> {
    const rows = await this.db.query<{ blob_key: string; short: boolean }>(
      // The wanted count is looked up per key (a primary-key probe): joined instead, the planner hashes the
      // whole files table for a page of a few hundred keys.
      `WITH page AS MATERIALIZED (
         SELECT blob_key, min(file_id) AS file_id, count(*) AS copies FROM replicas WHERE blob_key > $1
         GROUP BY blob_key ORDER BY blob_key LIMIT $2
       )
       SELECT p.blob_key,
         coalesce(p.copies < (SELECT f.replicas_wanted FROM files f WHERE f.id = p.file_id), false) AS short
       FROM page p ORDER BY p.blob_key`,
      [afterKey, limit],
    );
    return {
      lastKey: rows.length < limit ? undefined : rows.at(-1)!.blob_key,
      short: rows.filter((row) => row.short).map((row) => row.blob_key),
    };
  }

  async blobKeysOnNode(nodeId: string, afterKey: string, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ blob_key: string }>(
      'SELECT blob_key FROM replicas WHERE node_id = $1 AND blob_key > $2 ORDER BY blob_key LIMIT $3',
      [nodeId, afterKey, limit],
    );
    return rows.map((row) => row.blob_key);
  }

  async blobKeysOfFile(fileId: string): Promise<string[]> {
    return [fileId, ...(await listVariants(this.db, fileId)).map((variant) => `${fileId}.${variant.name}`)];
  }

  async storedBlobs(keys: string[], now: number): Promise<StoredBlob[]> {
    const blobs: StoredBlob[] = [];
    for (const key of keys) {
      // A variant's key is `<file id>.<name>`; file ids are UUIDs, without dots.
      const [fileId = key, variant] = key.split('.', 2);
      const file = await this.getFile(fileId);
      if (!file || file.deleteAt !== null || file.expiresAt <= now) continue;
      const digest =
        variant === undefined
          ? (file.sealed ?? file)
          : (
              await this.db.query<{ size: number; sha256: string }>(
                `SELECT coalesce(sealed_size, size) AS size, coalesce(sealed_sha256, sha256) AS sha256
                 FROM variants WHERE file_id = $1 AND name = $2`,
                [fileId, variant],
              )
            )[0];
      if (!digest) continue;
      blobs.push({ file, key, size: digest.size, sha256: digest.sha256, copies: await replicaStates(this.db, key) });
    }
    return blobs;
  }

  async upsertNode(node: NodeRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO nodes (id, url, parent_id, last_seen, stats, boot_id) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, parent_id = excluded.parent_id,
         last_seen = excluded.last_seen, stats = excluded.stats, boot_id = coalesce(excluded.boot_id, nodes.boot_id)`,
      [node.id, node.url, node.parentId, node.lastSeen, JSON.stringify(node.stats), node.bootId ?? null],
    );
  }

  async listNodes(): Promise<NodeRecord[]> {
    const rows = await this.db.query<{
      id: string;
      url: string;
      parent_id: string | null;
      last_seen: number;
      stats: string;
      membership: NodeMembership;
      boot_id: string | null;
    }>('SELECT id, url, parent_id, last_seen, stats, membership, boot_id FROM nodes ORDER BY id');
    return rows.map((row) => ({
      id: row.id,
      url: row.url,
      parentId: row.parent_id,
      lastSeen: row.last_seen,
      stats: JSON.parse(row.stats) as NodeRecord['stats'],
      membership: row.membership,
      ...(row.boot_id !== null && { bootId: row.boot_id }),
    }));
  }

  async setNodeMembership(nodeId: string, membership: NodeMembership): Promise<void> {
    await this.db.query('UPDATE nodes SET membership = $1 WHERE id = $2', [membership, nodeId]);
  }

  async nodeBlobCounts(nodeId: string): Promise<{ copies: number; pendingDeletes: number }> {
    const [row] = await this.db.query<{ copies: number; pending_deletes: number }>(
      `SELECT (SELECT count(*) FROM replicas WHERE node_id = $1) AS copies,
         (SELECT count(*) FROM pending_blob_deletes WHERE node_id = $1) AS pending_deletes`,
      [nodeId],
    );
    return { copies: row!.copies, pendingDeletes: row!.pending_deletes };
  }

  async countFiles(): Promise<number> {
    const [row] = await this.db.query<{ n: number }>('SELECT count(*) AS n FROM files');
    return row!.n;
  }

  async changeLimits(id: string, change: LimitsChange, now: number): Promise<FileRecord | undefined> {
    // Every right-hand side reads the row as it was: the downloads taken stay taken under the new limit.
    const [row] = await this.db.query<FileRow>(
      `UPDATE files SET
         downloads_left = coalesce($2::integer, max_downloads) - (max_downloads - downloads_left),
         max_downloads = coalesce($2::integer, max_downloads),
         expires_at = coalesce($3::bigint, expires_at)
       WHERE id = $1 AND delete_at IS NULL AND expires_at > $4
         AND max_downloads - downloads_left < coalesce($2::integer, max_downloads)
       RETURNING ${FILE_COLUMNS}`,
      [id, change.maxDownloads ?? null, change.expiresAt ?? null, now],
    );
    return row && fromRow(row);
  }

  async listLiveFiles(filter: FileFilter, afterId: string, limit: number, now: number): Promise<FileRecord[]> {
    const rows = await this.db.query<FileRow>(
      `SELECT ${FILE_COLUMNS} FROM files WHERE id > $1 AND delete_at IS NULL AND expires_at > $2
         AND ($3::text IS NULL OR key_id = $3) AND ($4::text IS NULL OR status = $4)
         AND ($5::bigint IS NULL OR expires_at < $5)
       ORDER BY id LIMIT $6`,
      [afterId, now, filter.keyId ?? null, filter.status ?? null, filter.expiringBefore ?? null, limit],
    );
    return rows.map(fromRow);
  }

  async restoreFiles(files: RestoredFile[], now: number): Promise<RestoreOutcome[]> {
    return this.db.transaction(async (tx) => {
      const outcomes: RestoreOutcome[] = [];
      for (const restored of files) outcomes.push(await restoreOne(tx, restored, now));
      return outcomes;
    });
  }

  async restoreTombstone(tombstone: Tombstone, locations: BlobLocation[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      if ((await tx.query('SELECT 1 FROM files WHERE id = $1', [tombstone.id])).length > 0) return false;
      await tx.query('INSERT INTO tombstones (id, reason, deleted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [
        tombstone.id,
        tombstone.reason,
        tombstone.deletedAt,
      ]);
      for (const { nodeId, key } of locations) {
        await tx.query(
          'INSERT INTO pending_blob_deletes (node_id, blob_key, not_before) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [nodeId, key, tombstone.deletedAt],
        );
      }
      return true;
    });
  }

  async fileCountsByNode(): Promise<Map<string, number>> {
    const rows = await this.db.query<{ node_id: string; n: number }>(
      'SELECT node_id, count(*) AS n FROM replicas WHERE blob_key = file_id GROUP BY node_id',
    );
    return new Map(rows.map((row) => [row.node_id, row.n]));
  }
}

/** One file of `restoreFiles`, inside its transaction: never overwrites, never races an upload or a removal. */
async function restoreOne(
  tx: Queryable,
  { file, nodeIds, variants }: RestoredFile,
  now: number,
): Promise<RestoreOutcome> {
  const exists = async (sql: string, key: string) => (await tx.query(sql, [key])).length > 0;
  const deleteQueued = (key: string) => exists('SELECT 1 FROM pending_blob_deletes WHERE blob_key = $1 LIMIT 1', key);
  if (await exists('SELECT 1 FROM files WHERE id = $1', file.id)) return 'present';
  if (await exists('SELECT 1 FROM tombstones WHERE id = $1', file.id)) return 'deleted';
  if (await deleteQueued(file.id)) return 'in-flight';
  await tx.query(`INSERT INTO files (${FILE_COLUMNS}) VALUES (${FILE_PLACEHOLDERS})`, fileValues(file));
  for (const nodeId of nodeIds) await tx.query(INSERT_REPLICA, [file.id, file.id, nodeId, 'durable', now]);
  for (const { variant, nodeIds: variantNodes } of variants) {
    const blobKey = `${file.id}.${variant.name}`;
    // A variant being written or removed is left to whoever does that.
    if (await deleteQueued(blobKey)) continue;
    await tx.query(
      `INSERT INTO variants (${VARIANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (file_id, name) DO NOTHING`,
      variantValues(file.id, variant),
    );
    for (const nodeId of variantNodes) await tx.query(INSERT_REPLICA, [file.id, blobKey, nodeId, 'durable', now]);
  }
  return 'restored';
}

/**
 * What a key's live files hold, with its usage row locked until the
 * transaction ends: uploads of one key on any gateway take turns from the
 * quota check to the insert, which the usage trigger counts.
 */
async function lockedUsage(tx: Queryable, keyId: string, now: number): Promise<KeyUsage> {
  await tx.query('INSERT INTO key_usage VALUES ($1, 0, 0) ON CONFLICT (key_id) DO NOTHING', [keyId]);
  const [stored] = await tx.query<KeyUsage>('SELECT files, bytes FROM key_usage WHERE key_id = $1 FOR UPDATE', [keyId]);
  const [expired] = await tx.query<KeyUsage>(
    `SELECT count(*) AS files, coalesce(sum(size), 0)::bigint AS bytes FROM files
     WHERE key_id = $1 AND expires_at <= $2 AND delete_at IS NULL`,
    [keyId, now],
  );
  return { files: stored!.files - expired!.files, bytes: stored!.bytes - expired!.bytes };
}

async function listVariants(db: Queryable, fileId: string): Promise<VariantRecord[]> {
  const rows = await db.query<VariantRow>(
    `SELECT name, content_type, width, height, size, sha256, sealed_size, sealed_sha256
     FROM variants WHERE file_id = $1 ORDER BY name`,
    [fileId],
  );
  return rows.map(variantFromRow);
}

const VARIANT_COLUMNS = 'file_id, name, content_type, width, height, size, sha256, sealed_size, sealed_sha256';

function variantValues(fileId: string, variant: VariantRecord): unknown[] {
  const { name, contentType, width, height, size, sha256, sealed } = variant;
  return [fileId, name, contentType, width, height, size, sha256, sealed?.size ?? null, sealed?.sha256 ?? null];
}

async function replicaStates(db: Queryable, blobKey: string): Promise<ReplicaState[]> {
  const rows = await db.query<{ node_id: string; state: string }>(
    'SELECT node_id, state FROM replicas WHERE blob_key = $1',
    [blobKey],
  );
  return rows.map((row) => ({ nodeId: row.node_id, durable: row.state === 'durable' }));
}

/**
 * A copy recorded while its file is being purged: the purge holds the file
 * row, and once it commits the foreign key check finds the file gone. That is
 * the same answer as a file missing from the start: nothing recorded.
 */
function fileGone(error: unknown): never[] {
  if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return [];
  throw error;
}

const FOREIGN_KEY_VIOLATION = '23503';

/** `id, title, …` as `f.id, f.title, …`. */
function prefixed(alias: string, columns: string): string {
  return columns
    .split(',')
    .map((column) => `${alias}.${column.trim()}`)
    .join(', ');
}
