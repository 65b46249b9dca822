import { LegimError } from '@legim/sdk';
import type {
  BlobLocation,
  FileStatus,
  NodeMembership,
  NodeRecord,
  SealedCopy,
  VariantRecord,
} from '../metadata/types.js';
import type { WorkerFile } from './worker-store.js';
import { parseNodeStats } from '../metadata/node-stats.js';

/**
 * The bodies of the gateway's internal worker API (docs/api.md, "Internal"),
 * checked the same way on both sides: the gateway refuses a malformed request
 * with `400 BAD_REQUEST`, the worker a malformed answer.
 */

/** Prefix of every route of the internal worker API. */
export const WORKER_API = '/internal/v1';
/** Largest request body the internal routes read. */
export const WORKER_BODY_LIMIT = 64 * 1024;
/** Longest failure reason kept; longer ones are cut by the worker. */
export const MAX_REASON_LENGTH = 2000;
/** Longest intent a worker may ask for. */
const MAX_INTENT_MS = 7 * 24 * 3600_000;

const FILE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VARIANT_NAME = /^[a-z0-9]{1,32}$/;
const NODE_ID = /^[A-Za-z0-9._-]{1,64}$/;
const CONTENT_TYPE = /^image\/[a-z0-9.+-]{1,40}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const STATUSES: readonly FileStatus[] = ['processing', 'ready', 'failed'];

export interface IntentBody {
  nodeIds: string[];
  /** How long from now (the gateway's clock) the intent holds. */
  forMs: number;
}

export interface VariantsBody {
  variants: { variant: VariantRecord; nodeIds: string[] }[];
}

export interface BlobDeletesBody {
  locations: BlobLocation[];
}

export interface FailedBody {
  reason: string;
}

export function parseFileId(value: string | undefined): string {
  if (value === undefined || !FILE_ID.test(value)) throw bad(`"${clip(value)}" is not a file id`);
  return value;
}

/** An original's key (its file id) or a variant's (`<file id>.<variant>`). */
export function parseBlobKey(value: unknown): string {
  const [fileId, variant, ...rest] = typeof value === 'string' ? value.split('.') : [];
  if (!fileId || !FILE_ID.test(fileId) || rest.length > 0 || (variant !== undefined && !VARIANT_NAME.test(variant))) {
    throw bad(`"${clip(value)}" is not a blob key: expected <file id> or <file id>.<variant>`);
  }
  return value as string;
}

export function parseIntent(body: unknown): IntentBody {
  const object = record(body, 'the intent');
  const forMs = object['forMs'];
  if (typeof forMs !== 'number' || !Number.isInteger(forMs) || forMs < 0 || forMs > MAX_INTENT_MS) {
    throw bad(`forMs must be a whole number of milliseconds from 0 to ${MAX_INTENT_MS}`);
  }
  return { nodeIds: nodeIds(object['nodeIds']), forMs };
}

export function parseVariants(body: unknown): VariantsBody {
  const list = array(record(body, 'the variants')['variants'], 'variants', 16);
  return {
    variants: list.map((item) => {
      const entry = record(item, 'each variant');
      return { variant: variantRecord(entry['variant']), nodeIds: nodeIds(entry['nodeIds']) };
    }),
  };
}

export function parseBlobDeletes(body: unknown): BlobDeletesBody {
  const list = array(record(body, 'the deletes')['locations'], 'locations', 1000);
  return {
    locations: list.map((item) => {
      const location = record(item, 'each location');
      return { nodeId: nodeId(location['nodeId']), key: parseBlobKey(location['key']) };
    }),
  };
}

export function parseFailed(body: unknown): FailedBody {
  const reason = record(body, 'the failure')['reason'];
  if (typeof reason !== 'string' || reason.length > MAX_REASON_LENGTH) {
    throw bad(`reason must be a string of at most ${MAX_REASON_LENGTH} characters`);
  }
  return { reason };
}

/** The gateway's answer to `GET /internal/v1/nodes`. */
export function parseNodeList(body: unknown): NodeRecord[] {
  return array(record(body, 'the node list')['nodes'], 'nodes', 100_000).map((item) => {
    const node = record(item, 'each node');
    const stats = record(node['stats'], 'node stats');
    if (typeof node['url'] !== 'string' || typeof node['lastSeen'] !== 'number')
      throw bad('a node lacks url or lastSeen');
    const parentId = node['parentId'];
    return {
      id: nodeId(node['id']),
      url: node['url'],
      parentId: parentId === null || parentId === undefined ? null : nodeId(parentId),
      lastSeen: node['lastSeen'],
      stats: parseNodeStats(stats),
      membership: membership(node['membership']),
    };
  });
}

/** The gateway's answer to `GET /internal/v1/files/:id`. */
export function parseWorkerFile(body: unknown): WorkerFile {
  const file = record(record(body, 'the file answer')['file'], 'the file') as unknown as WorkerFile;
  if (
    typeof file.id !== 'string' ||
    !STATUSES.includes(file.status) ||
    !Number.isInteger(file.replicasWanted) ||
    typeof file.expiresAt !== 'number'
  ) {
    throw bad('the file record is incomplete');
  }
  return file;
}

/** The gateway's answer to `GET /internal/v1/blobs/:key/replicas`. */
export function parseReplicaNodes(body: unknown): string[] {
  return nodeIds(record(body, 'the replica list')['nodeIds'], 1000);
}

/** The gateway's answer to `GET /internal/v1/files/:id/key`: the data key, or null once destroyed. */
export function parseDataKey(body: unknown): Buffer | undefined {
  const key = record(body, 'the key answer')['key'];
  if (key === null) return undefined;
  if (typeof key !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(key))
    throw bad('key must be the base64 of 32 bytes, or null');
  return Buffer.from(key, 'base64');
}

export function parseRecorded(body: unknown): boolean {
  const recorded = record(body, 'the answer')['recorded'];
  if (typeof recorded !== 'boolean') throw bad('recorded must be true or false');
  return recorded;
}

function variantRecord(value: unknown): VariantRecord {
  const v = record(value, 'variant');
  const name = v['name'];
  const contentType = v['contentType'];
  const sha256 = v['sha256'];
  if (typeof name !== 'string' || !VARIANT_NAME.test(name)) throw bad('variant.name must be letters and digits');
  if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType))
    throw bad('variant.contentType must be image/*');
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw bad('variant.sha256 must be 64 hex digits');
  return {
    name,
    contentType,
    width: count(v['width'], 'variant.width', 1),
    height: count(v['height'], 'variant.height', 1),
    size: count(v['size'], 'variant.size'),
    sha256,
    ...(v['sealed'] !== undefined && { sealed: sealedCopy(v['sealed']) }),
  };
}

function sealedCopy(value: unknown): SealedCopy {
  const sealed = record(value, 'variant.sealed');
  const sha256 = sealed['sha256'];
  if (typeof sha256 !== 'string' || !SHA256.test(sha256)) throw bad('variant.sealed.sha256 must be 64 hex digits');
  return { size: count(sealed['size'], 'variant.sealed.size'), sha256 };
}

const MEMBERSHIPS: readonly NodeMembership[] = ['active', 'draining', 'removed'];

function membership(value: unknown): NodeMembership {
  if (value === undefined) return 'active';
  if (!MEMBERSHIPS.includes(value as NodeMembership)) throw bad(`unknown node membership ${JSON.stringify(value)}`);
  return value as NodeMembership;
}

function nodeIds(value: unknown, max = 64): string[] {
  return array(value, 'nodeIds', max).map(nodeId);
}

function nodeId(value: unknown): string {
  if (typeof value !== 'string' || !NODE_ID.test(value)) throw bad(`"${clip(value)}" is not a node id`);
  return value;
}

function count(value: unknown, name: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw bad(`${name} must be a whole number of at least ${min}`);
  }
  return value;
}

function array(value: unknown, name: string, max: number): unknown[] {
  if (!Array.isArray(value) || value.length > max) throw bad(`${name} must be a list of at most ${max} entries`);
  return value;
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function clip(value: unknown): string {
  return String(value).slice(0, 80);
}

function bad(message: string): LegimError {
  return new LegimError('BAD_REQUEST', message);
}
