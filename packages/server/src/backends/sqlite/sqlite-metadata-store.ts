import type Database from 'better-sqlite3';
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
import { FILE_COLUMNS, fromRow, toRow, variantFromRow, type FileRow, type VariantRow } from '../file-rows.js';
import { KEY_USAGE_SQL } from './sqlite-key-store.js';

export class SqliteMetadataStore implements MetadataStore {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    this.statements = {
      insertFile: db.prepare(`INSERT INTO files (${FILE_COLUMNS}) VALUES (@id, @title, @size, @content_type, @extension,
        @width, @height, @sha256, @max_downloads, @downloads_left, @created_at, @expires_at, @delete_at, @delete_reason,
        @delete_token_hash, @status, @status_reason, @replicas_wanted, @key_id, @sealed_size, @sealed_sha256)`),
      setFileKey: db.prepare('UPDATE files SET master_kid = ?, wrapped_key = ? WHERE id = ?'),
      wrappedKey: db.prepare<[string], { master_kid: string; wrapped_key: string }>(
        'SELECT master_kid, wrapped_key FROM files WHERE id = ? AND wrapped_key IS NOT NULL',
      ),
      destroyFileKey: db.prepare(
        'UPDATE files SET wrapped_key = NULL, key_destroyed_at = ? WHERE id = ? AND wrapped_key IS NOT NULL',
      ),
      keysNotWrappedBy: db.prepare<[string, string, number], { id: string; master_kid: string; wrapped_key: string }>(
        `SELECT id, master_kid, wrapped_key FROM files
         WHERE wrapped_key IS NOT NULL AND master_kid <> ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      rewrapFileKey: db.prepare(
        'UPDATE files SET master_kid = ?, wrapped_key = ? WHERE id = ? AND master_kid = ? AND wrapped_key = ?',
      ),
      fileKeyCounts: db.prepare<[], { master_kid: string; n: number }>(
        'SELECT master_kid, count(*) AS n FROM files WHERE wrapped_key IS NOT NULL GROUP BY master_kid',
      ),
      keyUsage: db.prepare<[{ key: string; now: number }], KeyUsage>(KEY_USAGE_SQL),
      getFile: db.prepare<[string], FileRow>('SELECT * FROM files WHERE id = ?'),
      getTombstone: db.prepare<
        [string],
        { id: string; reason: DeleteReason; deleted_at: number; key_destroyed_at: number | null }
      >('SELECT * FROM tombstones WHERE id = ?'),
      replicaNodes: db.prepare<[string], { node_id: string }>(
        `SELECT node_id FROM replicas WHERE blob_key = ? ORDER BY state = 'durable' DESC, node_id`,
      ),
      insertReplica: db.prepare<{ fileId: string; blobKey: string; nodeId: string; state: string; since: number }>(
        `INSERT INTO replicas (file_id, blob_key, node_id, state, since)
         SELECT id, @blobKey, @nodeId, @state, @since FROM files WHERE id = @fileId
         ON CONFLICT (blob_key, node_id) DO UPDATE SET state = excluded.state`,
      ),
      deleteReplica: db.prepare('DELETE FROM replicas WHERE blob_key = ? AND node_id = ?'),
      upsertVariant: db.prepare(`INSERT OR REPLACE INTO variants
        (file_id, name, content_type, width, height, size, sha256, sealed_size, sealed_sha256)
        VALUES (@fileId, @name, @contentType, @width, @height, @size, @sha256, @sealedSize, @sealedSha256)`),
      listVariants: db.prepare<[string], VariantRow>('SELECT * FROM variants WHERE file_id = ? ORDER BY name'),
      staleProcessing: db.prepare<[number, number, number], { id: string }>(
        `SELECT id FROM files WHERE status = 'processing' AND created_at < ? AND expires_at > ? AND delete_at IS NULL LIMIT ?`,
      ),
      setStatus: db.prepare('UPDATE files SET status = ?, status_reason = ? WHERE id = ?'),
      stalePending: db.prepare<[number, number], FileRow & { node_id: string }>(
        `SELECT f.*, r.node_id FROM replicas r JOIN files f ON f.id = r.file_id
         WHERE r.state = 'pending' AND r.blob_key = r.file_id AND r.since < ? LIMIT ?`,
      ),
      scheduleDeletion: db.prepare(`UPDATE files SET delete_at = @at, delete_reason = @reason
        WHERE id = @id AND (delete_at IS NULL OR delete_at > @at)`),
      due: db.prepare<[number, number, number], FileRow>(
        `SELECT * FROM files WHERE delete_at <= ? OR expires_at <= ? ORDER BY expires_at LIMIT ?`,
      ),
      queueReplicaDeletes: db.prepare(`INSERT INTO pending_blob_deletes (node_id, blob_key, not_before)
        SELECT node_id, blob_key, ? FROM replicas WHERE file_id = ? ON CONFLICT DO UPDATE SET not_before = excluded.not_before`),
      deleteFile: db.prepare('DELETE FROM files WHERE id = ?'),
      // An encrypted file's key goes with its row: the tombstone keeps when (an earlier DELETE's time, or now).
      insertTombstone: db.prepare<{ id: string; reason: DeleteReason; now: number; keyDestroyedAt: number | null }>(
        `INSERT OR REPLACE INTO tombstones (id, reason, deleted_at, key_destroyed_at)
         VALUES (@id, @reason, @now, @keyDestroyedAt)`,
      ),
      keyState: db.prepare<[string], { sealed_sha256: string | null; key_destroyed_at: number | null }>(
        'SELECT sealed_sha256, key_destroyed_at FROM files WHERE id = ?',
      ),
      pruneTombstones: db.prepare('DELETE FROM tombstones WHERE deleted_at < ?'),
      queueBlobDelete: db.prepare(`INSERT INTO pending_blob_deletes (node_id, blob_key, not_before) VALUES (?, ?, ?)
        ON CONFLICT DO UPDATE SET not_before = excluded.not_before`),
      clearNodeIntent: db.prepare(
        'DELETE FROM pending_blob_deletes WHERE node_id = ? AND blob_key = ? AND not_before > ?',
      ),
      clearIntent: db.prepare('DELETE FROM pending_blob_deletes WHERE blob_key = ? AND not_before > ?'),
      makeIntentDue: db.prepare('UPDATE pending_blob_deletes SET not_before = ? WHERE blob_key = ?'),
      pendingDeletes: db.prepare<[number, string, number], { node_id: string; blob_key: string }>(
        `SELECT node_id, blob_key FROM pending_blob_deletes
         WHERE not_before <= ? AND node_id IN (SELECT value FROM json_each(?)) ORDER BY not_before LIMIT ?`,
      ),
      deferPendingDelete: db.prepare(
        'UPDATE pending_blob_deletes SET not_before = ? WHERE node_id = ? AND blob_key = ?',
      ),
      clearPendingDelete: db.prepare('DELETE FROM pending_blob_deletes WHERE node_id = ? AND blob_key = ?'),
      walkBlobs: db.prepare<[string, number], { blob_key: string; short: number }>(
        `WITH page AS (
           SELECT blob_key, file_id, count(*) AS copies FROM replicas WHERE blob_key > ?
           GROUP BY blob_key ORDER BY blob_key LIMIT ?
         )
         SELECT p.blob_key, coalesce(p.copies < f.replicas_wanted, 0) AS short
         FROM page p LEFT JOIN files f ON f.id = p.file_id ORDER BY p.blob_key`,
      ),
      blobKeysOnNode: db.prepare<[string, string, number], { blob_key: string }>(
        'SELECT blob_key FROM replicas WHERE node_id = ? AND blob_key > ? ORDER BY blob_key LIMIT ?',
      ),
      variantDigest: db.prepare<[string, string], { size: number; sha256: string }>(
        `SELECT coalesce(sealed_size, size) AS size, coalesce(sealed_sha256, sha256) AS sha256
         FROM variants WHERE file_id = ? AND name = ?`,
      ),
      replicaStates: db.prepare<[string], { node_id: string; state: string }>(
        'SELECT node_id, state FROM replicas WHERE blob_key = ?',
      ),
      upsertNode: db.prepare(`INSERT INTO nodes (id, url, parent_id, last_seen, stats, boot_id)
        VALUES (@id, @url, @parentId, @lastSeen, @stats, @bootId)
        ON CONFLICT (id) DO UPDATE SET url = excluded.url, parent_id = excluded.parent_id,
          last_seen = excluded.last_seen, stats = excluded.stats, boot_id = coalesce(excluded.boot_id, boot_id)`),
      listNodes: db.prepare<
        [],
        {
          id: string;
          url: string;
          parent_id: string | null;
          last_seen: number;
          stats: string;
          membership: NodeMembership;
          boot_id: string | null;
        }
      >('SELECT * FROM nodes ORDER BY id'),
      setNodeMembership: db.prepare('UPDATE nodes SET membership = ? WHERE id = ?'),
      nodeBlobCounts: db.prepare<[string, string], { copies: number; pending_deletes: number }>(
        `SELECT (SELECT count(*) FROM replicas WHERE node_id = ?) AS copies,
           (SELECT count(*) FROM pending_blob_deletes WHERE node_id = ?) AS pending_deletes`,
      ),
      countFiles: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM files'),
      // Every right-hand side reads the row as it was: the downloads taken stay taken under the new limit.
      changeLimits: db.prepare<{ id: string; max: number | null; expiresAt: number | null; now: number }, FileRow>(
        `UPDATE files SET
           downloads_left = coalesce(@max, max_downloads) - (max_downloads - downloads_left),
           max_downloads = coalesce(@max, max_downloads),
           expires_at = coalesce(@expiresAt, expires_at)
         WHERE id = @id AND delete_at IS NULL AND expires_at > @now
           AND max_downloads - downloads_left < coalesce(@max, max_downloads)
         RETURNING *`,
      ),
      listLiveFiles: db.prepare<
        { after: string; now: number; key: string | null; status: string | null; before: number | null; limit: number },
        FileRow
      >(
        `SELECT * FROM files WHERE id > @after AND delete_at IS NULL AND expires_at > @now
           AND (@key IS NULL OR key_id = @key) AND (@status IS NULL OR status = @status)
           AND (@before IS NULL OR expires_at < @before)
         ORDER BY id LIMIT @limit`,
      ),
      fileExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM files WHERE id = ?'),
      tombstoneExists: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM tombstones WHERE id = ?'),
      deleteQueued: db.prepare<[string], { one: number }>(
        'SELECT 1 AS one FROM pending_blob_deletes WHERE blob_key = ? LIMIT 1',
      ),
      insertTombstoneIfAbsent: db.prepare(
        'INSERT INTO tombstones (id, reason, deleted_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      queueBlobDeleteIfAbsent: db.prepare(
        'INSERT INTO pending_blob_deletes (node_id, blob_key, not_before) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      countByNode: db.prepare<[], { node_id: string; n: number }>(
        'SELECT node_id, count(*) AS n FROM replicas WHERE blob_key = file_id GROUP BY node_id',
      ),
    };
  }

  async recordUploadIntent(key: string, nodeIds: string[], until: number): Promise<void> {
    this.db.transaction(() => {
      for (const nodeId of nodeIds) this.statements.queueBlobDelete.run(nodeId, key, until);
    })();
  }

  async abandonUpload(key: string, now: number): Promise<void> {
    this.statements.makeIntentDue.run(now, key);
  }

  async insertFile(
    file: FileRecord,
    replicas: { durable: string[]; pending: string[] },
    now: number,
    quota?: StoredQuota,
    key?: WrappedKey,
  ): Promise<void> {
    // IMMEDIATE: the quota is read under the write lock, so no other writer records a file of this key meanwhile.
    this.db
      .transaction(() => {
        if (quota && file.keyId !== null) {
          checkStoredQuota(quota, this.statements.keyUsage.get({ key: file.keyId, now })!, file.size);
        }
        this.statements.insertFile.run(toRow(file));
        if (key) this.statements.setFileKey.run(key.kid, key.wrapped, file.id);
        for (const [state, nodeIds] of [
          ['durable', replicas.durable],
          ['pending', replicas.pending],
        ] as const) {
          for (const nodeId of nodeIds) {
            this.statements.insertReplica.run({ fileId: file.id, blobKey: file.id, nodeId, state, since: now });
          }
        }
        this.statements.clearIntent.run(file.id, now);
      })
      .immediate();
  }

  async getFile(id: string): Promise<FileRecord | undefined> {
    const row = this.statements.getFile.get(id);
    return row && fromRow(row);
  }

  async getTombstone(id: string): Promise<Tombstone | undefined> {
    const row = this.statements.getTombstone.get(id);
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
    const row = this.statements.wrappedKey.get(fileId);
    return row && { kid: row.master_kid, wrapped: row.wrapped_key };
  }

  async destroyFileKey(fileId: string, now: number): Promise<boolean> {
    return this.statements.destroyFileKey.run(now, fileId).changes > 0;
  }

  async keysNotWrappedBy(kid: string, afterId: string, limit: number): Promise<{ fileId: string; key: WrappedKey }[]> {
    return this.statements.keysNotWrappedBy
      .all(kid, afterId, limit)
      .map((row) => ({ fileId: row.id, key: { kid: row.master_kid, wrapped: row.wrapped_key } }));
  }

  async rewrapFileKey(fileId: string, from: WrappedKey, to: WrappedKey): Promise<boolean> {
    return this.statements.rewrapFileKey.run(to.kid, to.wrapped, fileId, from.kid, from.wrapped).changes > 0;
  }

  async fileKeyCounts(): Promise<Record<string, number>> {
    return Object.fromEntries(this.statements.fileKeyCounts.all().map((row) => [row.master_kid, row.n]));
  }

  async replicaNodes(blobKey: string): Promise<string[]> {
    return this.statements.replicaNodes.all(blobKey).map((row) => row.node_id);
  }

  async recordVariants(
    fileId: string,
    variants: { variant: VariantRecord; nodeIds: string[] }[],
    now: number,
  ): Promise<boolean> {
    return this.db.transaction(() => {
      if (!this.statements.getFile.get(fileId)) return false;
      for (const { variant, nodeIds } of variants) {
        const blobKey = `${fileId}.${variant.name}`;
        this.statements.upsertVariant.run(variantParams(fileId, variant));
        for (const nodeId of nodeIds) {
          this.statements.insertReplica.run({ fileId, blobKey, nodeId, state: 'durable', since: now });
        }
        this.statements.clearIntent.run(blobKey, now);
      }
      this.statements.setStatus.run('ready', null, fileId);
      return true;
    })();
  }

  async listVariants(fileId: string): Promise<VariantRecord[]> {
    return this.statements.listVariants.all(fileId).map(variantFromRow);
  }

  async staleProcessing(before: number, limit: number): Promise<string[]> {
    return this.statements.staleProcessing.all(before, Date.now(), limit).map((row) => row.id);
  }

  async markFailed(fileId: string, reason: string): Promise<void> {
    this.statements.setStatus.run('failed', reason, fileId);
  }

  async addReplica(fileId: string, blobKey: string, nodeId: string, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      const added =
        this.statements.insertReplica.run({ fileId, blobKey, nodeId, state: 'durable', since: now }).changes > 0;
      if (added) this.statements.clearNodeIntent.run(nodeId, blobKey, now);
      return added;
    })();
  }

  async dropReplica(blobKey: string, nodeId: string, now: number): Promise<void> {
    this.db.transaction(() => {
      this.statements.deleteReplica.run(blobKey, nodeId);
      this.statements.queueBlobDelete.run(nodeId, blobKey, now);
    })();
  }

  async replicaStates(blobKey: string): Promise<ReplicaState[]> {
    return this.statements.replicaStates
      .all(blobKey)
      .map((row) => ({ nodeId: row.node_id, durable: row.state === 'durable' }));
  }

  async stalePendingReplicas(before: number, limit: number): Promise<{ file: FileRecord; nodeId: string }[]> {
    return this.statements.stalePending.all(before, limit).map((row) => ({ file: fromRow(row), nodeId: row.node_id }));
  }

  async scheduleDeletion(id: string, at: number, reason: DeleteReason): Promise<boolean> {
    return this.statements.scheduleDeletion.run({ id, at, reason }).changes > 0;
  }

  async dueForDeletion(now: number, limit: number): Promise<FileRecord[]> {
    return this.statements.due.all(now, now, limit).map(fromRow);
  }

  async purgeFile(id: string, reason: DeleteReason, now: number): Promise<void> {
    this.db.transaction(() => {
      const key = this.statements.keyState.get(id);
      const keyDestroyedAt = key?.sealed_sha256 ? (key.key_destroyed_at ?? now) : null;
      this.statements.queueReplicaDeletes.run(now, id);
      this.statements.deleteFile.run(id);
      this.statements.insertTombstone.run({ id, reason, now, keyDestroyedAt });
      this.statements.pruneTombstones.run(now - TOMBSTONE_MS);
    })();
  }

  async queueBlobDeletes(locations: BlobLocation[], now: number): Promise<void> {
    this.db.transaction(() => {
      for (const { nodeId, key } of locations) this.statements.queueBlobDelete.run(nodeId, key, now);
    })();
  }

  async pendingBlobDeletes(now: number, limit: number, nodeIds: string[]): Promise<BlobLocation[]> {
    return this.statements.pendingDeletes
      .all(now, JSON.stringify(nodeIds), limit)
      .map((row) => ({ nodeId: row.node_id, key: row.blob_key }));
  }

  async deferPendingBlobDelete(location: BlobLocation, at: number): Promise<void> {
    this.statements.deferPendingDelete.run(at, location.nodeId, location.key);
  }

  async clearPendingBlobDelete(location: BlobLocation): Promise<void> {
    this.statements.clearPendingDelete.run(location.nodeId, location.key);
  }

  async walkBlobs(afterKey: string, limit: number): Promise<{ lastKey: string | undefined; short: string[] }> {
    const rows = this.statements.walkBlobs.all(afterKey, limit);
    return {
      lastKey: rows.length < limit ? undefined : rows.at(-1)!.blob_key,
      short: rows.filter((row) => row.short === 1).map((row) => row.blob_key),
    };
  }

  async blobKeysOnNode(nodeId: string, afterKey: string, limit: number): Promise<string[]> {
    return this.statements.blobKeysOnNode.all(nodeId, afterKey, limit).map((row) => row.blob_key);
  }

  async blobKeysOfFile(fileId: string): Promise<string[]> {
    return [fileId, ...this.statements.listVariants.all(fileId).map((variant) => `${fileId}.${variant.name}`)];
  }

  async storedBlobs(keys: string[], now: number): Promise<StoredBlob[]> {
    const blobs: StoredBlob[] = [];
    for (const key of keys) {
      // A variant's key is `<file id>.<name>`; file ids are UUIDs, without dots.
      const [fileId = key, variant] = key.split('.', 2);
      const row = this.statements.getFile.get(fileId);
      if (!row || row.delete_at !== null || row.expires_at <= now) continue;
      const file = fromRow(row);
      const digest = variant === undefined ? (file.sealed ?? file) : this.statements.variantDigest.get(fileId, variant);
      if (!digest) continue;
      blobs.push({
        file,
        key,
        size: digest.size,
        sha256: digest.sha256,
        copies: await this.replicaStates(key),
      });
    }
    return blobs;
  }

  async upsertNode(node: NodeRecord): Promise<void> {
    const { id, url, parentId, lastSeen, stats, bootId } = node;
    this.statements.upsertNode.run({
      id,
      url,
      parentId,
      lastSeen,
      stats: JSON.stringify(stats),
      bootId: bootId ?? null,
    });
  }

  async listNodes(): Promise<NodeRecord[]> {
    return this.statements.listNodes.all().map((row) => ({
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
    this.statements.setNodeMembership.run(membership, nodeId);
  }

  async nodeBlobCounts(nodeId: string): Promise<{ copies: number; pendingDeletes: number }> {
    const row = this.statements.nodeBlobCounts.get(nodeId, nodeId)!;
    return { copies: row.copies, pendingDeletes: row.pending_deletes };
  }

  async countFiles(): Promise<number> {
    return this.statements.countFiles.get()!.n;
  }

  async changeLimits(id: string, change: LimitsChange, now: number): Promise<FileRecord | undefined> {
    const row = this.statements.changeLimits.get({
      id,
      max: change.maxDownloads ?? null,
      expiresAt: change.expiresAt ?? null,
      now,
    });
    return row && fromRow(row);
  }

  async listLiveFiles(filter: FileFilter, afterId: string, limit: number, now: number): Promise<FileRecord[]> {
    return this.statements.listLiveFiles
      .all({
        after: afterId,
        now,
        key: filter.keyId ?? null,
        status: filter.status ?? null,
        before: filter.expiringBefore ?? null,
        limit,
      })
      .map(fromRow);
  }

  async fileCountsByNode(): Promise<Map<string, number>> {
    return new Map(this.statements.countByNode.all().map((row) => [row.node_id, row.n]));
  }

  async restoreFiles(files: RestoredFile[], now: number): Promise<RestoreOutcome[]> {
    return this.db.transaction(() => files.map((restored) => this.restoreOne(restored, now)))();
  }

  /** One file of `restoreFiles`, inside its transaction. */
  private restoreOne({ file, nodeIds, variants }: RestoredFile, now: number): RestoreOutcome {
    if (this.statements.fileExists.get(file.id)) return 'present';
    if (this.statements.tombstoneExists.get(file.id)) return 'deleted';
    if (this.statements.deleteQueued.get(file.id)) return 'in-flight';
    this.statements.insertFile.run(toRow(file));
    for (const nodeId of nodeIds) {
      this.statements.insertReplica.run({ fileId: file.id, blobKey: file.id, nodeId, state: 'durable', since: now });
    }
    for (const { variant, nodeIds: variantNodes } of variants) {
      const blobKey = `${file.id}.${variant.name}`;
      // A variant being written or removed is left to whoever does that.
      if (this.statements.deleteQueued.get(blobKey)) continue;
      this.statements.upsertVariant.run(variantParams(file.id, variant));
      for (const nodeId of variantNodes) {
        this.statements.insertReplica.run({ fileId: file.id, blobKey, nodeId, state: 'durable', since: now });
      }
    }
    return 'restored';
  }

  async restoreTombstone(tombstone: Tombstone, locations: BlobLocation[]): Promise<boolean> {
    return this.db.transaction(() => {
      if (this.statements.fileExists.get(tombstone.id)) return false;
      this.statements.insertTombstoneIfAbsent.run(tombstone.id, tombstone.reason, tombstone.deletedAt);
      for (const { nodeId, key } of locations) {
        this.statements.queueBlobDeleteIfAbsent.run(nodeId, key, tombstone.deletedAt);
      }
      return true;
    })();
  }
}

function variantParams(fileId: string, variant: VariantRecord) {
  const { name, contentType, width, height, size, sha256, sealed } = variant;
  return {
    fileId,
    name,
    contentType,
    width,
    height,
    size,
    sha256,
    sealedSize: sealed?.size ?? null,
    sealedSha256: sealed?.sha256 ?? null,
  };
}
