import type Database from 'better-sqlite3';
import type { ApiKeyRecord, KeyUsage } from '../../keys/api-key.js';
import type { KeyStore } from '../../keys/key-store.js';
import { KEY_COLUMNS, keyFromRow, keyValues, type KeyRow } from '../key-rows.js';

/** A key's usage: the running totals less its files that expired and wait for the sweep (an indexed range). */
export const KEY_USAGE_SQL = `SELECT coalesce((SELECT files FROM key_usage WHERE key_id = @key), 0) - count(*) AS files,
    coalesce((SELECT bytes FROM key_usage WHERE key_id = @key), 0) - coalesce(sum(size), 0) AS bytes
  FROM files WHERE key_id = @key AND expires_at <= @now AND delete_at IS NULL`;

export class SqliteKeyStore implements KeyStore {
  private readonly statements;

  constructor(db: Database.Database) {
    this.statements = {
      insert: db.prepare(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
      get: db.prepare<[string], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?`),
      list: db.prepare<[], KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`),
      revoke: db.prepare<[number, string], KeyRow>(
        `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ? RETURNING ${KEY_COLUMNS}`,
      ),
      usage: db.prepare<[{ key: string; now: number }], KeyUsage>(KEY_USAGE_SQL),
    };
  }

  async insertKey(key: ApiKeyRecord): Promise<void> {
    this.statements.insert.run(...keyValues(key));
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.get.get(id);
    return row && keyFromRow(row);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return this.statements.list.all().map(keyFromRow);
  }

  async revokeKey(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    const row = this.statements.revoke.get(now, id);
    return row && keyFromRow(row);
  }

  async usage(keyId: string, now: number): Promise<KeyUsage> {
    return this.statements.usage.get({ key: keyId, now })!;
  }
}
