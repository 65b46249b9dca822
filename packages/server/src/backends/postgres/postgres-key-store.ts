import type { ApiKeyRecord, KeyUsage } from '../../keys/api-key.js';
import type { KeyStore } from '../../keys/key-store.js';
import { KEY_COLUMNS, keyFromRow, keyValues, type KeyRow } from '../key-rows.js';
import type { PostgresDatabase } from './postgres-database.js';

export class PostgresKeyStore implements KeyStore {
  constructor(private readonly db: PostgresDatabase) {}

  async insertKey(key: ApiKeyRecord): Promise<void> {
    await this.db.query(`INSERT INTO api_keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, keyValues(key));
  }

  async getKey(id: string): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = $1`, [id]);
    return row && keyFromRow(row);
  }

  async listKeys(): Promise<ApiKeyRecord[]> {
    return (await this.db.query<KeyRow>(`SELECT ${KEY_COLUMNS} FROM api_keys ORDER BY created_at, id`)).map(keyFromRow);
  }

  async revokeKey(id: string, now: number): Promise<ApiKeyRecord | undefined> {
    const [row] = await this.db.query<KeyRow>(
      `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2 RETURNING ${KEY_COLUMNS}`,
      [now, id],
    );
    return row && keyFromRow(row);
  }

  async usage(keyId: string, now: number): Promise<KeyUsage> {
    // The running totals less the key's files that expired and wait for the sweep (an indexed range).
    const [row] = await this.db.query<KeyUsage>(
      `SELECT coalesce((SELECT files FROM key_usage WHERE key_id = $1), 0) - count(*) AS files,
         coalesce((SELECT bytes FROM key_usage WHERE key_id = $1), 0) - coalesce(sum(size), 0) AS bytes
       FROM files WHERE key_id = $1 AND expires_at <= $2 AND delete_at IS NULL`,
      [keyId, now],
    );
    return { files: Number(row!.files), bytes: Number(row!.bytes) };
  }
}
