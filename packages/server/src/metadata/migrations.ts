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
