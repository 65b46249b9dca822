import { createSecretCheck } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { ApiKeyRecord, KeyUsage } from './api-key.js';
import { hashKeySecret, keyIdOf, newKeySecret, secretMatches } from './key-secret.js';
import type { KeyStore } from './key-store.js';
import type { NewKey } from './new-key.js';
import { ANONYMOUS, type Principal } from './principal.js';

/** A key as listed: never its secret. */
export interface ListedKey {
  key: ApiKeyRecord;
  usage: KeyUsage;
}

/**
 * API keys: made, listed and revoked by the admin, and turned back into
 * who sent a request. Every authentication reads the key from the index
 * (one primary-key lookup, no cache), so a key revoked on one gateway is
 * refused by every gateway of the index at its next use.
 */
export class KeyService {
  private readonly isAdminKey: (authorization: string | undefined) => boolean;

  constructor(
    private readonly store: KeyStore,
    adminKey: string,
  ) {
    this.isAdminKey = createSecretCheck(adminKey);
  }

  /** Makes a key; its secret is in the answer and nowhere else. */
  async create(request: NewKey, now: number): Promise<ListedKey & { secret: string }> {
    const { id, secret } = newKeySecret();
    const key: ApiKeyRecord = { id, ...request, secretHash: hashKeySecret(secret), createdAt: now, revokedAt: null };
    await this.store.insertKey(key);
    return { key, usage: { files: 0, bytes: 0 }, secret };
  }

  async list(now: number): Promise<ListedKey[]> {
    const keys = await this.store.listKeys();
    return Promise.all(keys.map(async (key) => ({ key, usage: await this.store.usage(key.id, now) })));
  }

  /** Revokes a key (again: changes nothing); its files stay. */
  async revoke(id: string, now: number): Promise<ListedKey> {
    const key = await this.store.revokeKey(id, now);
    if (!key) throw new LegimError('KEY_NOT_FOUND', `no API key ${id}; list them with "legim keys ls"`);
    return { key, usage: await this.store.usage(id, now) };
  }

  /**
   * Who an `Authorization` header names: anonymous without one, the admin,
   * or an API key. Throws UNAUTHORIZED for anything else it carries, and
   * KEY_REVOKED for a revoked key.
   */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (authorization === undefined) return ANONYMOUS;
    if (this.isAdminKey(authorization)) return { kind: 'admin' };
    const secret = /^Bearer[ \t]+(\S+)\s*$/i.exec(authorization)?.[1];
    const id = secret === undefined ? undefined : keyIdOf(secret);
    const key = id === undefined ? undefined : await this.store.getKey(id);
    if (!key || !secretMatches(secret!, key.secretHash)) {
      throw new LegimError(
        'UNAUTHORIZED',
        'unknown API key: send Authorization: Bearer <key> with a key from "legim keys create"',
      );
    }
    if (key.revokedAt !== null) {
      throw new LegimError('KEY_REVOKED', `API key ${key.id} was revoked; ask the operator for a new one`);
    }
    return { kind: 'key', key };
  }
}
