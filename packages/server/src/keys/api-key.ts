import type { KeyQuotas, KeyScope } from '@legim/sdk';

export type { KeyQuotas, KeyScope };

export const KEY_SCOPES: readonly KeyScope[] = ['upload', 'read', 'admin'];

/** An API key as the index keeps it: the secret only as its SHA-256. Times are epoch milliseconds. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  scopes: KeyScope[];
  quotas: KeyQuotas;
  secretHash: string;
  createdAt: number;
  revokedAt: number | null;
}

/** What a key's live files hold: not deleted, not expired. */
export interface KeyUsage {
  files: number;
  bytes: number;
}
