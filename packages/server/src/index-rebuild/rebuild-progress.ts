import type { IndexRebuildProgress } from '@legim/sdk';

/** What `GET /v1/index/rebuild` answers; the type lives in the SDK, which reads it. */
export type RebuildProgress = IndexRebuildProgress;

/** How many orphan and mismatch keys a progress report lists (the counts are exact). */
export const REPORTED_KEYS = 100;

export function idleProgress(): RebuildProgress {
  return {
    state: 'idle',
    startedAt: null,
    finishedAt: null,
    nodes: { total: 0, scanned: 0, unreachable: [] },
    blobsSeen: 0,
    filesRestored: 0,
    variantsRestored: 0,
    skipped: { alreadyIndexed: 0, inFlight: 0, deleted: 0, expired: 0, exhausted: 0 },
    orphans: { count: 0, keys: [] },
    unrecoverable: { count: 0, keys: [] },
    mismatches: { count: 0, keys: [] },
    filesPerSecond: 0,
    lastError: null,
  };
}
