import { randomUUID } from 'node:crypto';
import type { ApiKeyRecord } from '../../src/keys/api-key.js';
import type { FileRecord, NodeRecord, VariantRecord } from '../../src/metadata/types.js';

export const HOUR = 3600_000;

/** A live, ready file with 5 downloads, expiring in an hour; ids are UUIDs (no dots), as the gateway makes them. */
export function fileRecord(overrides: Partial<FileRecord> = {}): FileRecord {
  const now = Date.now();
  return {
    id: randomUUID(),
    title: 'test',
    size: 100,
    contentType: 'image/png',
    extension: 'png',
    width: 10,
    height: 10,
    sha256: '0'.repeat(64),
    maxDownloads: 5,
    downloadsLeft: 5,
    createdAt: now,
    expiresAt: now + HOUR,
    deleteAt: null,
    deleteReason: null,
    deleteTokenHash: 'hash',
    status: 'ready',
    statusReason: null,
    replicasWanted: 2,
    keyId: null,
    ...overrides,
  };
}

export function variantRecord(name: string, size = 10): VariantRecord {
  return { name, contentType: 'image/webp', width: 4, height: 4, size, sha256: name.padEnd(64, 'f').slice(0, 64) };
}

export function nodeRecord(id: string, overrides: Partial<NodeRecord> = {}): NodeRecord {
  return {
    id,
    url: `http://127.0.0.1:1/${id}`,
    parentId: null,
    lastSeen: Date.now(),
    stats: { blobCount: 0, usedBytes: 0, freeBytes: 1000, totalBytes: 1000 },
    ...overrides,
  };
}

/** An active key with upload scope and no quotas; its id is unique, as the gateway makes them. */
export function keyRecord(overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: randomUUID().replaceAll('-', '').slice(0, 12),
    name: 'test key',
    scopes: ['upload'],
    quotas: {},
    secretHash: 'f'.repeat(64),
    createdAt: Date.now(),
    revokedAt: null,
    ...overrides,
  };
}
