import { LegimError } from '@legim/sdk';
import { isValidBlobKey } from '../blob-key.js';
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
  /**
   * Random per process start. A drained node was removed from the cluster;
   * only a restarted one (a new boot id) is taken back.
   */
  bootId: string;
  /** `filesystem` is absent in joins from nodes older than it. */
  stats: Omit<BlobStoreStats, 'filesystem'> & Partial<Pick<BlobStoreStats, 'filesystem'>>;
  /**
   * Keys of blobs the node found corrupt and quarantined (at most
   * {@link MAX_CORRUPT_PER_JOIN}), sent again until an answer has `corruptReceived`.
   */
  corrupt?: string[];
}

/** `POST /join` answer: how often the parent wants to hear from the child. */
export interface JoinResponse {
  ok: true;
  heartbeatMs: number;
  /** The node was drained and removed from the cluster: it should stop. */
  removed?: true;
  /** The gateway took in the join's `corrupt` keys (passed back down by each parent). */
  corruptReceived?: true;
}

/** `POST /drain` body: a node asking to be drained, relayed up the tree like a join. */
export interface DrainRequest {
  nodeId: string;
}

/** Corrupt blob keys one join carries at most; the rest go in the next heartbeats. */
export const MAX_CORRUPT_PER_JOIN = 100;

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
  const bootId = requireNodeId(body.bootId, 'bootId');
  const join: JoinRequest = { nodeId, url, bootId, stats };
  if (body.parentId !== undefined && body.parentId !== null) join.parentId = requireNodeId(body.parentId, 'parentId');
  if (body.corrupt !== undefined && body.corrupt !== null) join.corrupt = requireBlobKeys(body.corrupt, 'corrupt');
  return join;
}

/** Validates a drain body received over HTTP. */
export function parseDrainRequest(value: unknown): DrainRequest {
  const body = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  return { nodeId: requireNodeId(body.nodeId, 'nodeId') };
}

/** True when a node id read from disk or the network has the expected form. */
export function isValidNodeId(value: unknown): value is string {
  return typeof value === 'string' && NODE_ID.test(value);
}

function requireNodeId(value: unknown, field: string): string {
  if (!isValidNodeId(value)) throw invalid(`${field} must be 1-100 characters from A-Z a-z 0-9 . _ -`);
  return value;
}

function requireBlobKeys(value: unknown, field: string): string[] {
  if (
    !Array.isArray(value) ||
    value.length > MAX_CORRUPT_PER_JOIN ||
    !value.every((key) => typeof key === 'string' && isValidBlobKey(key))
  ) {
    throw invalid(`${field} must be a list of at most ${MAX_CORRUPT_PER_JOIN} blob keys`);
  }
  return value as string[];
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

function requireStats(value: unknown): JoinRequest['stats'] {
  if (typeof value !== 'object' || value === null) throw invalid('stats must be an object');
  const record = value as Record<string, unknown>;
  const stats = {} as JoinRequest['stats'];
  for (const field of STAT_FIELDS) {
    const number = record[field];
    if (typeof number !== 'number' || !Number.isFinite(number) || number < 0) {
      throw invalid(`stats.${field} must be a non-negative number`);
    }
    stats[field] = number;
  }
  // Absent from nodes older than it: they are then counted as a filesystem of their own.
  if (record.filesystem !== undefined) stats.filesystem = requireFilesystem(record.filesystem);
  return stats;
}

function requireFilesystem(value: unknown): BlobStoreStats['filesystem'] {
  const record = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const { id, totalBytes, freeBytes } = record;
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (typeof id !== 'string' || id === '' || id.length > 200 || !isCount(totalBytes) || !isCount(freeBytes)) {
    throw invalid('stats.filesystem must be {id, totalBytes, freeBytes}');
  }
  return { id, totalBytes, freeBytes };
}

function invalid(message: string): LegimError {
  return new LegimError('BAD_REQUEST', `invalid request: ${message}`);
}
