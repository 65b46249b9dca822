import { Type, type Static } from '@sinclair/typebox';

const count = (description?: string) => Type.Integer({ minimum: 0, ...(description ? { description } : {}) });

export const HealthSchema = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
    nodes: Type.Object({ up: count(), suspect: count(), down: count() }, { additionalProperties: false }),
    counter: Type.Object(
      {
        backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres'), Type.Literal('redis')]),
        reachable: Type.Boolean(),
      },
      {
        additionalProperties: false,
        description: 'Where downloads are counted; with Redis unreachable they are counted on the index',
      },
    ),
    index: Type.Object(
      { backend: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]), reachable: Type.Boolean() },
      {
        additionalProperties: false,
        description: 'Where the index lives; while it cannot be reached, requests that need it answer 503',
      },
    ),
    files: Type.Union([count(), Type.Null()], { description: 'Live files; null while the index cannot be reached' }),
    encryption: Type.Object(
      {
        enabled: Type.Boolean({ description: 'New uploads are stored encrypted (--encrypt)' }),
        currentKey: Type.Union([Type.String(), Type.Null()], {
          description: 'Id of the master key new file keys are wrapped with; null without a master key',
        }),
        fileKeys: Type.Union([Type.Record(Type.String(), count()), Type.Null()], {
          description:
            'Live file keys per master key id: a rotation is done once only the current one is left; null while the index cannot be reached',
        }),
      },
      { additionalProperties: false, description: 'Encryption at rest (docs/operations.md, "Encryption at rest")' },
    ),
    writeQuorum: count(),
    replicas: count(),
  },
  {
    $id: 'Health',
    additionalProperties: false,
    description:
      'degraded when fewer nodes are live than the replica count, or the index or the download counter cannot be reached',
  },
);
/** `GET /v1/health` (admin key). */
export type Health = Static<typeof HealthSchema>;

export const NodeStatusSchema = Type.Union([Type.Literal('up'), Type.Literal('suspect'), Type.Literal('down')]);
/** How the gateway's prober sees a storage node. */
export type NodeStatus = Static<typeof NodeStatusSchema>;

export const NodeFilesystemSchema = Type.Object(
  {
    id: Type.String({
      description:
        'The same for every node storing on the same filesystem of the same host (a hash of the host, and the device of the data folder)',
    }),
    totalBytes: count('Size of the filesystem'),
    freeBytes: count('Bytes free on it for the node'),
  },
  {
    $id: 'NodeFilesystem',
    additionalProperties: false,
    description:
      'The filesystem the node stores on: several nodes on one disk report the same id, so it is counted once',
  },
);
/** The filesystem a storage node stores on, as it reports it. */
export type NodeFilesystem = Static<typeof NodeFilesystemSchema>;

export const NodeStatsSchema = Type.Object(
  {
    blobCount: count(),
    usedBytes: count(),
    freeBytes: count('The smaller of the free space of its filesystem and what is left of its capacity'),
    totalBytes: count('Its capacity when one is set, else the size of its filesystem'),
    filesystem: Type.Optional(NodeFilesystemSchema),
  },
  { $id: 'NodeStats', additionalProperties: false, description: "A storage node's disk, from its heartbeats" },
);
/** A storage node's disk, as it reports it in its heartbeats. */
export type NodeStats = Static<typeof NodeStatsSchema>;

export const ClusterNodeSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.String({ description: 'The URL the node advertised; the gateway streams to and from it' }),
    parentId: Type.Union([Type.String(), Type.Null()], {
      description: "The node it joined under; null for the gateway's own storage",
    }),
    status: NodeStatusSchema,
    membership: Type.Union([Type.Literal('active'), Type.Literal('draining')], {
      description: 'draining: takes no new copies while its blobs are copied elsewhere; removed once empty',
    }),
    latencyMs: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
      description: 'Latency EWMA of the health probes; null before the first probe',
    }),
    lastSeen: Type.String({ format: 'date-time', description: 'Time of the last heartbeat' }),
    stats: NodeStatsSchema,
    files: count('Files with a replica on this node'),
  },
  { $id: 'ClusterNode', additionalProperties: false },
);
/** One storage node in the tree of `GET /v1/cluster`. */
export type ClusterNode = Static<typeof ClusterNodeSchema>;

export const ClusterViewSchema = Type.Object(
  {
    gateway: Type.Object({ id: Type.String(), url: Type.String() }, { additionalProperties: false }),
    nodes: Type.Array(ClusterNodeSchema),
  },
  { $id: 'ClusterView', additionalProperties: false, description: 'The tree, flattened; rebuild it with parentId' },
);
/** `GET /v1/cluster` (admin key): the tree, flattened; rebuild it with `parentId`. */
export type ClusterView = Static<typeof ClusterViewSchema>;

export const DrainStartedSchema = Type.Object(
  {
    nodeId: Type.String(),
    draining: Type.Array(Type.String(), {
      description: 'Every node being drained for this request: the node and its subtree, deepest first',
    }),
  },
  { $id: 'DrainStarted', additionalProperties: false },
);
/** `POST /v1/cluster/nodes/:id/drain` (admin key): the drain has started. */
export type DrainStarted = Static<typeof DrainStartedSchema>;
