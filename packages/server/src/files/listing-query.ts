import { LegimError } from '@legim/sdk';
import type { FileFilter, FileStatus } from '../metadata/types.js';

/** The query of `GET /v1/files` as sent (every value a string). */
export interface RawListingQuery {
  cursor?: string;
  limit?: string;
  status?: string;
  key?: string;
  expiringBefore?: string;
}

export interface ListingQuery {
  filter: FileFilter;
  /** The id after which the page starts; '' for the first page. */
  cursor: string;
  limit: number;
}

export const MAX_LISTING_LIMIT = 1000;
const DEFAULT_LIMIT = 100;
const STATUSES: readonly FileStatus[] = ['processing', 'ready', 'failed'];

/** Validates a listing's query; a value that cannot be honoured is refused, never ignored. */
export function parseListingQuery(query: RawListingQuery): ListingQuery {
  return {
    filter: {
      ...(query.status !== undefined && { status: status(query.status) }),
      ...(query.key !== undefined && { keyId: key(query.key) }),
      ...(query.expiringBefore !== undefined && { expiringBefore: instant(query.expiringBefore) }),
    },
    cursor: query.cursor ?? '',
    limit: limit(query.limit),
  };
}

function status(raw: string): FileStatus {
  if ((STATUSES as readonly string[]).includes(raw)) return raw as FileStatus;
  throw invalid(`status must be ${STATUSES.join(', ')}, got "${raw}"`);
}

function key(raw: string): string {
  if (/^[0-9a-f]{12}$/.test(raw)) return raw;
  throw invalid(`key must be an API key id (12 hex digits, as "legim keys ls" shows), got "${raw}"`);
}

function instant(raw: string): number {
  const at = Date.parse(raw);
  if (Number.isNaN(at)) throw invalid(`expiringBefore must be an ISO 8601 instant, got "${raw}"`);
  return at;
}

function limit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > MAX_LISTING_LIMIT) {
    throw invalid(`limit must be a whole number from 1 to ${MAX_LISTING_LIMIT}, got "${raw}"`);
  }
  return value;
}

function invalid(why: string): LegimError {
  return new LegimError('INVALID_OPTION', why);
}
