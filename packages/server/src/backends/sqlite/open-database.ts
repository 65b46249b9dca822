import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

/** Opens (creating if needed) the gateway database in WAL mode, migrated to the latest schema. */
export function openDatabase(path: string): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode survives a process crash; a power loss may drop the
  // last commits, the same window the nodes' fsync closes for the bytes.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  // Several gateways may share the file: wait for a writer instead of failing.
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}
