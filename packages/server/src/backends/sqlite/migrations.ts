import type Database from 'better-sqlite3';

/** Append-only: a released migration is never edited, a new one is added. */
const MIGRATIONS: string[] = [
  `CREATE TABLE files (
     id TEXT PRIMARY KEY,
     title TEXT NOT NULL,
     size INTEGER NOT NULL,
     content_type TEXT NOT NULL,
     extension TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     max_downloads INTEGER NOT NULL,
     downloads_left INTEGER NOT NULL CHECK (downloads_left >= 0),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     delete_at INTEGER,
     delete_reason TEXT,
     delete_token_hash TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
     status_reason TEXT,
     replicas_wanted INTEGER NOT NULL
   ) STRICT;
   CREATE INDEX files_expires_at ON files (expires_at);
   CREATE INDEX files_delete_at ON files (delete_at) WHERE delete_at IS NOT NULL;
   -- Which node holds which blob: the original (blob_key = file_id) and its
   -- variants (blob_key = '<file_id>.<variant>').
   CREATE TABLE replicas (
     file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
     blob_key TEXT NOT NULL,
     node_id TEXT NOT NULL,
     -- pending: the copy was still being written when the file was recorded
     state TEXT NOT NULL CHECK (state IN ('pending', 'durable')),
     since INTEGER NOT NULL,
     PRIMARY KEY (blob_key, node_id)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX replicas_file ON replicas (file_id);
   CREATE INDEX replicas_node ON replicas (node_id);
   CREATE TABLE variants (
     file_id TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     content_type TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     size INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     PRIMARY KEY (file_id, name)
   ) STRICT, WITHOUT ROWID;
   CREATE TABLE tombstones (
     id TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     deleted_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   -- Blobs to remove from nodes. A row due later is an upload's intent: if
   -- the upload never gets recorded (the gateway died), the copies it may
   -- have left are removed when the row falls due.
   CREATE TABLE pending_blob_deletes (
     node_id TEXT NOT NULL,
     blob_key TEXT NOT NULL,
     not_before INTEGER NOT NULL,
     PRIMARY KEY (node_id, blob_key)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX pending_blob_deletes_due ON pending_blob_deletes (not_before);
   CREATE TABLE nodes (
     id TEXT PRIMARY KEY,
     url TEXT NOT NULL,
     parent_id TEXT,
     last_seen INTEGER NOT NULL,
     stats TEXT NOT NULL
   ) STRICT, WITHOUT ROWID;`,
  // Leases for work that must not interleave across the processes sharing this database.
  `CREATE TABLE locks (
     resource TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;`,
  // Drains: a draining node takes no new copies; a removed one is taken back only after a restart (a new boot id).
  `ALTER TABLE nodes ADD COLUMN membership TEXT NOT NULL DEFAULT 'active';
   ALTER TABLE nodes ADD COLUMN boot_id TEXT;`,
  // Totals for GET /v1/stats and /metrics, kept by triggers so reading them never scans the index.
  // Files count while not marked for deletion; variants while their file is in the index. The BEFORE
  // INSERT trigger takes back a variant that INSERT OR REPLACE overwrites (REPLACE fires no DELETE trigger).
  `CREATE TABLE index_totals (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     files INTEGER NOT NULL,
     file_bytes INTEGER NOT NULL,
     processing INTEGER NOT NULL,
     failed INTEGER NOT NULL,
     variants INTEGER NOT NULL,
     variant_bytes INTEGER NOT NULL
   ) STRICT;
   INSERT INTO index_totals
     SELECT 1, count(*), coalesce(sum(size), 0), coalesce(sum(status = 'processing'), 0),
       coalesce(sum(status = 'failed'), 0), (SELECT count(*) FROM variants), (SELECT coalesce(sum(size), 0) FROM variants)
     FROM files WHERE delete_at IS NULL;
   CREATE TRIGGER index_totals_file_added AFTER INSERT ON files WHEN NEW.delete_at IS NULL BEGIN
     UPDATE index_totals SET files = files + 1, file_bytes = file_bytes + NEW.size,
       processing = processing + (NEW.status = 'processing'), failed = failed + (NEW.status = 'failed');
   END;
   CREATE TRIGGER index_totals_file_removed AFTER DELETE ON files WHEN OLD.delete_at IS NULL BEGIN
     UPDATE index_totals SET files = files - 1, file_bytes = file_bytes - OLD.size,
       processing = processing - (OLD.status = 'processing'), failed = failed - (OLD.status = 'failed');
   END;
   CREATE TRIGGER index_totals_file_changed AFTER UPDATE OF delete_at, status ON files BEGIN
     UPDATE index_totals SET
       files = files + (NEW.delete_at IS NULL) - (OLD.delete_at IS NULL),
       file_bytes = file_bytes + (NEW.delete_at IS NULL) * NEW.size - (OLD.delete_at IS NULL) * OLD.size,
       processing = processing + (NEW.delete_at IS NULL AND NEW.status = 'processing')
         - (OLD.delete_at IS NULL AND OLD.status = 'processing'),
       failed = failed + (NEW.delete_at IS NULL AND NEW.status = 'failed')
         - (OLD.delete_at IS NULL AND OLD.status = 'failed');
   END;
   CREATE TRIGGER index_totals_variant_replaced BEFORE INSERT ON variants BEGIN
     UPDATE index_totals SET variants = variants - 1,
       variant_bytes = variant_bytes - (SELECT size FROM variants WHERE file_id = NEW.file_id AND name = NEW.name)
     WHERE EXISTS (SELECT 1 FROM variants WHERE file_id = NEW.file_id AND name = NEW.name);
   END;
   CREATE TRIGGER index_totals_variant_added AFTER INSERT ON variants BEGIN
     UPDATE index_totals SET variants = variants + 1, variant_bytes = variant_bytes + NEW.size;
   END;
   CREATE TRIGGER index_totals_variant_removed AFTER DELETE ON variants BEGIN
     UPDATE index_totals SET variants = variants - 1, variant_bytes = variant_bytes - OLD.size;
   END;`,
  // API keys, the key that uploaded each file, what each key's live files hold (kept by triggers, as
  // index_totals is: files count while not marked for deletion), and the rate limits' token buckets.
  `CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     scopes TEXT NOT NULL,
     quotas TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   ) STRICT;
   ALTER TABLE files ADD COLUMN key_id TEXT;
   CREATE INDEX files_key_expires_at ON files (key_id, expires_at) WHERE key_id IS NOT NULL;
   CREATE INDEX files_key_id ON files (key_id, id) WHERE key_id IS NOT NULL;
   CREATE TABLE key_usage (
     key_id TEXT PRIMARY KEY,
     files INTEGER NOT NULL,
     bytes INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE TRIGGER key_usage_file_added AFTER INSERT ON files
     WHEN NEW.key_id IS NOT NULL AND NEW.delete_at IS NULL BEGIN
     INSERT INTO key_usage VALUES (NEW.key_id, 1, NEW.size)
       ON CONFLICT (key_id) DO UPDATE SET files = files + 1, bytes = bytes + excluded.bytes;
   END;
   CREATE TRIGGER key_usage_file_removed AFTER DELETE ON files
     WHEN OLD.key_id IS NOT NULL AND OLD.delete_at IS NULL BEGIN
     UPDATE key_usage SET files = files - 1, bytes = bytes - OLD.size WHERE key_id = OLD.key_id;
   END;
   CREATE TRIGGER key_usage_file_changed AFTER UPDATE OF delete_at ON files
     WHEN NEW.key_id IS NOT NULL AND (OLD.delete_at IS NULL) <> (NEW.delete_at IS NULL) BEGIN
     INSERT INTO key_usage VALUES (NEW.key_id, (NEW.delete_at IS NULL) - (OLD.delete_at IS NULL),
       ((NEW.delete_at IS NULL) - (OLD.delete_at IS NULL)) * NEW.size)
       ON CONFLICT (key_id) DO UPDATE SET files = files + excluded.files, bytes = bytes + excluded.bytes;
   END;
   -- A bucket's row can go once it is full again (full_at): a missing bucket is a full one.
   CREATE TABLE rate_buckets (
     bucket TEXT PRIMARY KEY,
     tokens REAL NOT NULL,
     updated_at INTEGER NOT NULL,
     full_at INTEGER NOT NULL
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX rate_buckets_full_at ON rate_buckets (full_at);`,
  // A client's resume credits on a file; the row can go once spent or past its window (until).
  `CREATE TABLE resume_credits (
     file_id TEXT NOT NULL,
     client TEXT NOT NULL,
     credits INTEGER NOT NULL,
     until INTEGER NOT NULL,
     PRIMARY KEY (file_id, client)
   ) STRICT, WITHOUT ROWID;
   CREATE INDEX resume_credits_until ON resume_credits (until);`,
  // Encryption at rest: the sealed form's size and digest (what the nodes hold), the file's data key
  // wrapped by a master key (NULL once destroyed, or for a file stored in clear), and when it was destroyed.
  `ALTER TABLE files ADD COLUMN sealed_size INTEGER;
   ALTER TABLE files ADD COLUMN sealed_sha256 TEXT;
   ALTER TABLE files ADD COLUMN master_kid TEXT;
   ALTER TABLE files ADD COLUMN wrapped_key TEXT;
   ALTER TABLE files ADD COLUMN key_destroyed_at INTEGER;
   CREATE INDEX files_master_kid ON files (master_kid, id) WHERE wrapped_key IS NOT NULL;
   ALTER TABLE variants ADD COLUMN sealed_size INTEGER;
   ALTER TABLE variants ADD COLUMN sealed_sha256 TEXT;
   ALTER TABLE tombstones ADD COLUMN key_destroyed_at INTEGER;`,
];

/**
 * Brings the schema up to date. The version is read inside the write
 * transaction, so gateways that start together on one database apply each
 * migration exactly once.
 */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    for (let version = current; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version]!);
    db.pragma(`user_version = ${Math.max(current, MIGRATIONS.length)}`);
  }).immediate();
}
