import type { ApiKeyRecord, KeyUsage } from './api-key.js';

/**
 * The API keys, kept in the index so every gateway of one index agrees on
 * them at once (a revoked key is refused by all of them on its next use),
 * and what each key's files hold. The usage is kept by the engine as files
 * come and go (triggers), so reading it never scans the files.
 */
export interface KeyStore {
  insertKey(key: ApiKeyRecord): Promise<void>;
  getKey(id: string): Promise<ApiKeyRecord | undefined>;
  /** Every key, oldest first. */
  listKeys(): Promise<ApiKeyRecord[]>;
  /** Marks a key revoked at `now` unless it already is; undefined when there is no such key. */
  revokeKey(id: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** What the key's files hold at `now`: not marked for deletion, not expired. */
  usage(keyId: string, now: number): Promise<KeyUsage>;
}
