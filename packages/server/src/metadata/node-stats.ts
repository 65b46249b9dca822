import { LegimError, type NodeFilesystem } from '@legim/sdk';
import type { NodeStats } from './types.js';

const COUNTS = ['blobCount', 'usedBytes', 'freeBytes', 'totalBytes'] as const;

/**
 * A node's stats as it sent them (in a join, or its `GET /stats` answer),
 * keeping only the known fields: they are stored and shown in the cluster
 * view as they are. `filesystem` is absent from nodes older than it.
 *
 * @throws LegimError `BAD_REQUEST` for a missing or malformed field
 */
export function parseNodeStats(value: unknown): NodeStats {
  const record = asRecord(value, 'stats must be an object');
  const stats = {} as NodeStats;
  for (const field of COUNTS) stats[field] = count(record[field], `stats.${field}`);
  if (record['filesystem'] !== undefined && record['filesystem'] !== null) {
    stats.filesystem = parseFilesystem(record['filesystem']);
  }
  return stats;
}

function parseFilesystem(value: unknown): NodeFilesystem {
  const record = asRecord(value, 'stats.filesystem must be an object');
  const id = record['id'];
  if (typeof id !== 'string' || id === '' || id.length > 200) {
    throw new LegimError('BAD_REQUEST', 'stats.filesystem.id must be a string of 1 to 200 characters');
  }
  return {
    id,
    totalBytes: count(record['totalBytes'], 'stats.filesystem.totalBytes'),
    freeBytes: count(record['freeBytes'], 'stats.filesystem.freeBytes'),
  };
}

function asRecord(value: unknown, message: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LegimError('BAD_REQUEST', message);
  return value as Record<string, unknown>;
}

function count(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new LegimError('BAD_REQUEST', `${name} must be a whole number of at least 0`);
  }
  return value;
}
