import { LegimError } from '@legim/sdk';
import type { BlobStoreStats } from '../storage-ledger.js';

/**
 * `POST /join` body: a node registering or heartbeating with its parent.
 * `parentId` is absent when a node joins for itself; a parent relaying the
 * join upward sets it to its own id, so the gateway can rebuild the tree.
 */
export interface JoinRequest {
  nodeId: string;
  /** The URL the gateway streams blobs to and from. */
  url: string;
  parentId?: string;
  stats: BlobStoreStats;
}

/** `POST /join` answer: how often the parent wants to hear from the child. */
export interface JoinResponse {
  ok: true;
  heartbeatMs: number;
}

const NODE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const STAT_FIELDS = ['blobCount', 'usedBytes', 'freeBytes', 'totalBytes'] as const;

/** Validates a join body received over HTTP, keeping only the known fields. */
export function parseJoinRequest(value: unknown): JoinRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('the body must be a JSON object');
  const body = value as Record<string, unknown>;
  const nodeId = requireNodeId(body.nodeId, 'nodeId');
  const url = requireHttpUrl(body.url);
  const stats = requireStats(body.stats);
  const join: JoinRequest = { nodeId, url, stats };
  if (body.parentId !== undefined && body.parentId !== null) join.parentId = requireNodeId(body.parentId, 'parentId');
  return join;
}

/** True when a node id read from disk or the network has the expected form. */
export function isValidNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID.test(value);
}

function requireNodeId(value: unknown, field: string): string {
  if (!isValidNodeId(value)) throw invalid(`${field} must be 1-100 characters from A-Z a-z 0-9 . _ -`);
  return value;
}

function requireHttpUrl(value: unknown): string {
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // reported below
    }
  }
  throw invalid('url must be an http:// or https:// URL');
}

function requireStats(value: unknown): BlobStoreStats {
  if (typeof value !== 'object' || value === null) throw invalid('stats must be an object');
  const record = value as Record<string, unknown>;
  const stats = {} as BlobStoreStats;
  for (const field of STAT_FIELDS) {
    const number = record[field];
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw invalid(`stats.${field} must be a non-negative number`);
    }
    stats[field] = number;
  }
  return stats;
}

function invalid(message: string): LegimError {
  return new LegimError('BAD_REQUEST', `invalid join: ${message}`);
}
