import type { Queryable } from './queryable.js';

/**
 * Append-only: a released migration is never edited, a new one is added.
 * Times are epoch milliseconds (BIGINT), as in the SQLite engine, so both
 * engines hold the same values and `legim index copy` moves rows as they are.
 */
const MIGRATIONS: string[] = [
  `-- Keys compare byte by byte (COLLATE "C"), as in SQLite: pages walked in key order never depend on a locale.
   CREATE TABLE files (
     id TEXT COLLATE "C" PRIMARY KEY,
     title TEXT NOT NULL,
     size BIGINT NOT NULL,
     content_type TEXT NOT NULL,
     extension TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     sha256 TEXT NOT NULL,
     max_downloads INTEGER NOT NULL,
     downloads_left INTEGER NOT NULL CHECK (downloads_left >= 0),
     created_at BIGINT NOT NULL,
     expires_at BIGINT NOT NULL,
     delete_at BIGINT,
     delete_reason TEXT,
     delete_token_hash TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
     status_reason TEXT,
     replicas_wanted INTEGER NOT NULL
   );
   CREATE INDEX files_expires_at ON files (expires_at);
   CREATE INDEX files_delete_at ON files (delete_at) WHERE delete_at IS NOT NULL;
   CREATE INDEX files_processing ON files (created_at) WHERE status = 'processing';
   -- Which node holds which blob: the original (blob_key = file_id) and its variants ('<file_id>.<variant>').
   CREATE TABLE replicas (
     file_id TEXT COLLATE "C" NOT NULL REFERENCES files (id) ON DELETE CASCADE,
     blob_key TEXT COLLATE "C" NOT NULL,
     node_id TEXT COLLATE "C" NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending', 'durable')),
     since BIGINT NOT NULL,
     PRIMARY KEY (blob_key, node_id)
   );
   CREATE INDEX replicas_file ON replicas (file_id);
   CREATE INDEX replicas_node ON replicas (node_id, blob_key);
   CREATE INDEX replicas_pending ON replicas (since) WHERE state = 'pending';
   CREATE TABLE variants (
     file_id TEXT COLLATE "C" NOT NULL REFERENCES files (id) ON DELETE CASCADE,
     name TEXT NOT NULL,
     content_type TEXT NOT NULL,
     width INTEGER NOT NULL,
     height INTEGER NOT NULL,
     size BIGINT NOT NULL,
     sha256 TEXT NOT NULL,
     PRIMARY KEY (file_id, name)
   );
   CREATE TABLE tombstones (
     id TEXT COLLATE "C" PRIMARY KEY,
     reason TEXT NOT NULL,
     deleted_at BIGINT NOT NULL
   );
   CREATE INDEX tombstones_deleted_at ON tombstones (deleted_at);
   -- Blobs to remove from nodes; a row due later is an upload's intent.
   CREATE TABLE pending_blob_deletes (
     node_id TEXT COLLATE "C" NOT NULL,
     blob_key TEXT COLLATE "C" NOT NULL,
     not_before BIGINT NOT NULL,
     PRIMARY KEY (node_id, blob_key)
   );
   CREATE INDEX pending_blob_deletes_due ON pending_blob_deletes (not_before);
   CREATE INDEX pending_blob_deletes_key ON pending_blob_deletes (blob_key);
   CREATE TABLE nodes (
     id TEXT COLLATE "C" PRIMARY KEY,
     url TEXT NOT NULL,
     parent_id TEXT,
     last_seen BIGINT NOT NULL,
     stats TEXT NOT NULL,
     membership TEXT NOT NULL DEFAULT 'active',
     boot_id TEXT
   );
   -- Leases for work of several steps that must not interleave across gateways and workers.
   CREATE TABLE locks (
     resource TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     expires_at BIGINT NOT NULL
   );
   -- Totals for GET /v1/stats, kept by triggers so reading them never scans the index. Files count
   -- while not marked for deletion; variants while their file is in the index.
   CREATE TABLE index_totals (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     files BIGINT NOT NULL,
     file_bytes BIGINT NOT NULL,
     processing BIGINT NOT NULL,
     failed BIGINT NOT NULL,
     variants BIGINT NOT NULL,
     variant_bytes BIGINT NOT NULL
   );
   INSERT INTO index_totals VALUES (1, 0, 0, 0, 0, 0, 0);
   CREATE FUNCTION legim_file_totals() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     old_live INTEGER := 0; new_live INTEGER := 0;
     old_size BIGINT := 0; new_size BIGINT := 0;
     old_processing INTEGER := 0; new_processing INTEGER := 0;
     old_failed INTEGER := 0; new_failed INTEGER := 0;
   BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.delete_at IS NULL THEN
       old_live := 1; old_size := OLD.size;
       old_processing := (OLD.status = 'processing')::int; old_failed := (OLD.status = 'failed')::int;
     END IF;
     IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.delete_at IS NULL THEN
       new_live := 1; new_size := NEW.size;
       new_processing := (NEW.status = 'processing')::int; new_failed := (NEW.status = 'failed')::int;
     END IF;
     IF old_live <> new_live OR old_processing <> new_processing OR old_failed <> new_failed OR old_size <> new_size THEN
       UPDATE index_totals SET files = files + new_live - old_live, file_bytes = file_bytes + new_size - old_size,
         processing = processing + new_processing - old_processing, failed = failed + new_failed - old_failed;
     END IF;
     RETURN NULL;
   END $$;
   CREATE TRIGGER files_totals AFTER INSERT OR UPDATE OF delete_at, status OR DELETE ON files
     FOR EACH ROW EXECUTE FUNCTION legim_file_totals();
   CREATE FUNCTION legim_variant_totals() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') THEN
       UPDATE index_totals SET variants = variants - 1, variant_bytes = variant_bytes - OLD.size;
     END IF;
     IF TG_OP IN ('UPDATE', 'INSERT') THEN
       UPDATE index_totals SET variants = variants + 1, variant_bytes = variant_bytes + NEW.size;
     END IF;
     RETURN NULL;
   END $$;
   CREATE TRIGGER variants_totals AFTER INSERT OR UPDATE OR DELETE ON variants
     FOR EACH ROW EXECUTE FUNCTION legim_variant_totals();`,
  `-- API keys, the key that uploaded each file, what each key's live files hold (kept by a trigger, as
   -- index_totals is: files count while not marked for deletion), and the rate limits' token buckets.
   CREATE TABLE api_keys (
     id TEXT COLLATE "C" PRIMARY KEY,
     name TEXT NOT NULL,
     scopes TEXT NOT NULL,
     quotas TEXT NOT NULL,
     secret_hash TEXT NOT NULL,
     created_at BIGINT NOT NULL,
     revoked_at BIGINT
   );
   ALTER TABLE files ADD COLUMN key_id TEXT COLLATE "C";
   CREATE INDEX files_key_expires_at ON files (key_id, expires_at) WHERE key_id IS NOT NULL;
   CREATE INDEX files_key_id ON files (key_id, id) WHERE key_id IS NOT NULL;
   CREATE TABLE key_usage (
     key_id TEXT COLLATE "C" PRIMARY KEY,
     files BIGINT NOT NULL,
     bytes BIGINT NOT NULL
   );
   CREATE FUNCTION legim_key_usage() RETURNS trigger LANGUAGE plpgsql AS $$
   DECLARE
     owner TEXT; delta_files INTEGER := 0; delta_bytes BIGINT := 0;
   BEGIN
     IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.key_id IS NOT NULL AND OLD.delete_at IS NULL THEN
       owner := OLD.key_id; delta_files := delta_files - 1; delta_bytes := delta_bytes - OLD.size;
     END IF;
     IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.key_id IS NOT NULL AND NEW.delete_at IS NULL THEN
       owner := NEW.key_id; delta_files := delta_files + 1; delta_bytes := delta_bytes + NEW.size;
     END IF;
     IF delta_files <> 0 THEN
       INSERT INTO key_usage AS u VALUES (owner, delta_files, delta_bytes)
         ON CONFLICT (key_id) DO UPDATE SET files = u.files + excluded.files, bytes = u.bytes + excluded.bytes;
     END IF;
     RETURN NULL;
   END $$;
   -- Named to fire before files_totals (triggers fire in name order): every writer locks the two rows in one order.
   CREATE TRIGGER files_key_usage AFTER INSERT OR UPDATE OF delete_at OR DELETE ON files
     FOR EACH ROW EXECUTE FUNCTION legim_key_usage();
   -- A bucket's row can go once it is full again (full_at): a missing bucket is a full one.
   CREATE TABLE rate_buckets (
     bucket TEXT COLLATE "C" PRIMARY KEY,
     tokens DOUBLE PRECISION NOT NULL,
     updated_at BIGINT NOT NULL,
     full_at BIGINT NOT NULL
   );
   CREATE INDEX rate_buckets_full_at ON rate_buckets (full_at);`,
  // A client's resume credits on a file; the row can go once spent or past its window (until).
  `CREATE TABLE resume_credits (
     file_id TEXT COLLATE "C" NOT NULL,
     client TEXT COLLATE "C" NOT NULL,
     credits INTEGER NOT NULL,
     until BIGINT NOT NULL,
     PRIMARY KEY (file_id, client)
   );
   CREATE INDEX resume_credits_until ON resume_credits (until);`,
  // Encryption at rest: the sealed form's size and digest (what the nodes hold), the file's data key
  // wrapped by a master key (NULL once destroyed, or for a file stored in clear), and when it was destroyed.
  `ALTER TABLE files ADD COLUMN sealed_size BIGINT;
   ALTER TABLE files ADD COLUMN sealed_sha256 TEXT;
   ALTER TABLE files ADD COLUMN master_kid TEXT COLLATE "C";
   ALTER TABLE files ADD COLUMN wrapped_key TEXT;
   ALTER TABLE files ADD COLUMN key_destroyed_at BIGINT;
   CREATE INDEX files_master_kid ON files (master_kid, id) WHERE wrapped_key IS NOT NULL;
   ALTER TABLE variants ADD COLUMN sealed_size BIGINT;
   ALTER TABLE variants ADD COLUMN sealed_sha256 TEXT;
   ALTER TABLE tombstones ADD COLUMN key_destroyed_at BIGINT;`,
];

/**
 * Brings the schema up to date, inside the caller's transaction. The
 * advisory lock makes gateways that start together wait for the first one,
 * which applies each migration exactly once; the others then find nothing to do.
 */
export async function migrate(tx: Queryable): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.legim_migrations'))`);
  await tx.query('CREATE TABLE IF NOT EXISTS legim_schema (version INTEGER NOT NULL)');
  const [row] = await tx.query<{ version: number }>('SELECT version FROM legim_schema');
  const current = row?.version ?? 0;
  for (let version = current; version < MIGRATIONS.length; version++) await tx.query(MIGRATIONS[version]!);
  if (row === undefined) await tx.query('INSERT INTO legim_schema VALUES ($1)', [MIGRATIONS.length]);
  else if (current < MIGRATIONS.length) await tx.query('UPDATE legim_schema SET version = $1', [MIGRATIONS.length]);
}
