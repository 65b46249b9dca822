import { Type, type Static } from '@sinclair/typebox';
import { NodeStatusSchema } from './cluster.js';

const count = () => Type.Integer({ minimum: 0 });
/** -1 while the job queue cannot be read (RabbitMQ unreachable). */
const jobCount = () => Type.Integer({ minimum: -1 });
const object = <T extends Parameters<typeof Type.Object>[0]>(properties: T, description?: string) =>
  Type.Object(properties, { additionalProperties: false, ...(description ? { description } : {}) });

export const FilesystemShareSchema = Type.Object(
  {
    id: Type.Union([Type.String(), Type.Null()], {
      description: 'The filesystem id the nodes report; null for a node that reports none (counted on its own)',
    }),
    nodeIds: Type.Array(Type.String(), { description: 'The nodes storing on it' }),
    usedBytes: count(),
    freeBytes: count(),
    totalBytes: count(),
  },
  { $id: 'FilesystemShare', additionalProperties: false },
);
/** One filesystem of the storage nodes and the nodes storing on it, counted once. */
export type FilesystemShare = Static<typeof FilesystemShareSchema>;

export const StatsSchema = Type.Object(
  {
    at: Type.String({ format: 'date-time', description: 'When the numbers were read' }),
    uptimeSeconds: Type.Number({ minimum: 0, description: 'Seconds since this gateway started' }),
    files: object(
      { live: count(), bytes: count(), processing: count(), failed: count() },
      'Files that can still be served and the bytes of their originals; processing and failed count them by status',
    ),
    variants: object({ count: count(), bytes: count() }, 'Variants (previews) in the index and their bytes'),
    traffic: object(
      { uploads: count(), uploadBytes: count(), downloads: count(), downloadBytes: count(), refused: count() },
      'Counted by this gateway since it started; refused: 410 used up, expired or deleted, 404 unknown',
    ),
    replication: object(
      { target: count(), underReplicated: count() },
      'Copies kept of each file, and live files with fewer durable copies than they want (recounted every 5 s)',
    ),
    jobs: object(
      {
        backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('rabbitmq')]),
        waiting: jobCount(),
        running: jobCount(),
        deadLettered: jobCount(),
      },
      'The job queue; -1 while it cannot be read',
    ),
    nodes: object(
      {
        up: count(),
        suspect: count(),
        down: count(),
        usedBytes: count(),
        freeBytes: count(),
        totalBytes: count(),
        filesystems: Type.Array(FilesystemShareSchema, {
          description:
            'The filesystems of the nodes not down: each counted once in the sums, however many nodes share it',
        }),
      },
      'Storage nodes by status, and the disks of those not down (a filesystem several nodes share is counted once)',
    ),
  },
  { $id: 'Stats', additionalProperties: false, description: 'The numbers of one gateway, read cheaply at `at`' },
);
/**
 * `GET /v1/stats` (admin key). Files, variants, replication and nodes are
 * shared by the gateways of one index; `traffic` is this gateway's alone.
 */
export type Stats = Static<typeof StatsSchema>;

const at = Type.String({ format: 'date-time' });
const event = <T extends string, P extends Parameters<typeof Type.Object>[0]>(type: T, properties: P) =>
  Type.Object({ type: Type.Literal(type), at, ...properties }, { additionalProperties: false });

export const LegimEventSchema = Type.Union(
  [
    event('file.uploaded', { fileId: Type.String(), size: count(), contentType: Type.String() }),
    event('file.downloaded', { fileId: Type.String(), downloadsLeft: count(), bytes: count() }),
    event('file.processed', {
      fileId: Type.String(),
      status: Type.Union([Type.Literal('ready'), Type.Literal('failed')]),
    }),
    event('file.deleted', {
      fileId: Type.String(),
      reason: Type.Union([Type.Literal('deleted'), Type.Literal('expired'), Type.Literal('used-up')]),
    }),
    event('node.status', {
      nodeId: Type.String(),
      status: NodeStatusSchema,
      previous: Type.Union([NodeStatusSchema, Type.Null()]),
    }),
    event('node.joined', {
      nodeId: Type.String(),
      url: Type.String(),
      parentId: Type.Union([Type.String(), Type.Null()]),
    }),
    event('replica.repaired', { fileId: Type.String(), blobKey: Type.String(), nodeId: Type.String() }),
    event('node.draining', { nodeId: Type.String(), draining: Type.Array(Type.String()) }),
    event('node.removed', { nodeId: Type.String() }),
  ],
  { $id: 'Event', description: 'One event of GET /v1/events (Server-Sent Events), as this gateway saw it happen' },
);
/** One event of `GET /v1/events`, as this gateway saw it happen (each gateway has its own stream). */
export type LegimEvent = Static<typeof LegimEventSchema>;
/** The `type` of a {@link LegimEvent}. */
export type LegimEventType = LegimEvent['type'];
