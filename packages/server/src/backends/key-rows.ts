import type { ApiKeyRecord, KeyQuotas, KeyScope } from '../keys/api-key.js';

/** An `api_keys` row as both engines store it; scopes and quotas as JSON text. */
export interface KeyRow {
  id: string;
  name: string;
  scopes: string;
  quotas: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
}

export const KEY_COLUMNS = 'id, name, scopes, quotas, secret_hash, created_at, revoked_at';

export const keyFromRow = (row: KeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  scopes: JSON.parse(row.scopes) as KeyScope[],
  quotas: JSON.parse(row.quotas) as KeyQuotas,
  secretHash: row.secret_hash,
  createdAt: row.created_at,
  revokedAt: row.revoked_at,
});

/** A key's values in `KEY_COLUMNS` order. */
export const keyValues = (key: ApiKeyRecord): (string | number | null)[] => [
  key.id,
  key.name,
  JSON.stringify(key.scopes),
  JSON.stringify(key.quotas),
  key.secretHash,
  key.createdAt,
  key.revokedAt,
];
