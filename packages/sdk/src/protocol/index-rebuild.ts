import { Type, type Static } from '@sinclair/typebox';

const count = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });
const time = () => Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const keyList = (description: string) =>
  Type.Object({ count: count(), keys: Type.Array(Type.String()) }, { additionalProperties: false, description });

export const IndexRebuildProgressSchema = Type.Object(
  {
    state: Type.Union([Type.Literal('idle'), Type.Literal('running'), Type.Literal('done'), Type.Literal('failed')]),
    startedAt: time(),
    finishedAt: time(),
    nodes: Type.Object(
      {
        total: count('Storage nodes the gateway knew when the rebuild started'),
        scanned: count('Nodes whose whole listing has been read'),
        unreachable: Type.Array(Type.String(), {
          description: 'Nodes down when the rebuild started, not read: run the rebuild again once they are back',
        }),
      },
      { additionalProperties: false },
    ),
    blobsSeen: count('Copies listed (one per blob per node)'),
    filesRestored: count(),
    variantsRestored: count(),
    skipped: Type.Object(
      {
        alreadyIndexed: count('The index still has the file: never overwritten'),
        inFlight: count('An upload or copy of it was under way: left to it'),
        deleted: count('A tombstone says it was deleted: stays deleted, copies queued for deletion'),
        expired: count('Past its expiry: stays gone, copies queued for deletion'),
        exhausted: count('Its checkpoint reached its limit: stays gone, copies queued for deletion'),
      },
      { additionalProperties: false },
    ),
    orphans: keyList('Blobs without valid sidecar meta, and variants whose original is nowhere'),
    unrecoverable: keyList(
      'Encrypted files (file ids) the index does not have: their keys lived only in the lost index, so their copies cannot be read; left on the nodes',
    ),
    mismatches: keyList('Copies whose size or digest differs from the other copies of their blob (key@node)'),
    filesPerSecond: Type.Number({ minimum: 0 }),
    lastError: Type.Union([Type.String(), Type.Null()]),
  },
  { $id: 'IndexRebuildProgress', additionalProperties: false, description: 'Where an index rebuild stands' },
);
/** Where an index rebuild stands (`GET /v1/index/rebuild`); times are ISO 8601. */
export type IndexRebuildProgress = Static<typeof IndexRebuildProgressSchema>;
