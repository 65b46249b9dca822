import type { Stats } from '@legim/sdk';
import type { ClusterNode } from '../cluster/node-registry.js';

/** What one scrape reads: the stats of `GET /v1/stats`, plus per-node and per-reason detail. */
export interface MetricsInput {
  stats: Stats;
  nodes: ClusterNode[];
  refusals: ReadonlyMap<string, number>;
  subscribers: number;
}

export type Sample = [labels: Record<string, string>, value: number];

/** One `legim_*` metric read from the stats: a number, or labelled samples (none is no sample, not zero). */
export interface StatMetric {
  /** Without the `legim_` prefix. */
  name: string;
  /** A counter is a running total kept by the stats, set whole at each scrape. */
  type: 'counter' | 'gauge';
  help: string;
  labelNames?: string[];
  samples(input: MetricsInput): number | Sample[];
}

/** Every `legim_*` metric of the stats, in exposition order; the names, help and labels are a public contract. */
export const STAT_METRICS: readonly StatMetric[] = [
  gauge('uptime_seconds', 'Seconds since this gateway started.', ({ stats }) => stats.uptimeSeconds),
  counter('uploads_total', 'Uploads this gateway accepted.', ({ stats }) => stats.traffic.uploads),
  counter(
    'upload_bytes_total',
    'Bytes of the uploads this gateway accepted.',
    ({ stats }) => stats.traffic.uploadBytes,
  ),
  counter(
    'downloads_total',
    'Downloads this gateway served (each took one download).',
    ({ stats }) => stats.traffic.downloads,
  ),
  counter('download_bytes_total', 'Bytes this gateway sent for downloads.', ({ stats }) => stats.traffic.downloadBytes),
  {
    ...counter(
      'downloads_refused_total',
      'Downloads this gateway refused, by error code (404 unknown, 410 used up, expired or deleted).',
      ({ refusals }) => [...refusals].map(([code, count]) => [{ code }, count]),
    ),
    labelNames: ['code'],
  },
  gauge(
    'files',
    'Live files in the index (not expired, not deleted, downloads left).',
    ({ stats }) => stats.files.live,
  ),
  gauge('file_bytes', 'Bytes of the originals of the live files (one copy).', ({ stats }) => stats.files.bytes),
  gauge('files_processing', 'Live files whose variants are still being made.', ({ stats }) => stats.files.processing),
  gauge('files_failed', 'Live files whose processing failed.', ({ stats }) => stats.files.failed),
  gauge('variants', 'Variants (previews) in the index.', ({ stats }) => stats.variants.count),
  gauge('variant_bytes', 'Bytes of the variants in the index (one copy).', ({ stats }) => stats.variants.bytes),
  gauge('replicas_target', 'Copies kept of each file.', ({ stats }) => stats.replication.target),
  gauge(
    'files_under_replicated',
    'Live files with fewer durable copies on nodes not down than they want.',
    ({ stats }) => stats.replication.underReplicated,
  ),
  jobGauge('jobs_waiting', 'Jobs due and waiting for a worker.', (jobs) => jobs.waiting),
  jobGauge('jobs_running', 'Jobs being worked on.', (jobs) => jobs.running),
  jobGauge('jobs_dead_lettered', 'Jobs given up on after their retries.', (jobs) => jobs.deadLettered),
  {
    ...gauge('nodes', 'Storage nodes by status as this gateway probes them.', ({ stats }) =>
      (['up', 'suspect', 'down'] as const).map((status) => [{ status }, stats.nodes[status]]),
    ),
    labelNames: ['status'],
  },
  nodeGauge('node_up', '1 if the storage node answers its probes, else 0.', (n) => +(n.status === 'up')),
  nodeGauge('node_used_bytes', 'Bytes used on the node, from its latest heartbeat.', (n) => n.stats.usedBytes),
  nodeGauge('node_free_bytes', 'Bytes free on the node, from its latest heartbeat.', (n) => n.stats.freeBytes),
  nodeGauge('node_total_bytes', 'Size of the node disk, from its latest heartbeat.', (n) => n.stats.totalBytes),
  {
    ...gauge('node_latency_seconds', 'Moving average of the probe round trip to the node.', ({ nodes }) =>
      nodes.filter((n) => n.latencyMs !== undefined).map((n) => [{ node: n.id }, n.latencyMs! / 1000]),
    ),
    labelNames: ['node'],
  },
  gauge('event_subscribers', 'Open GET /v1/events streams on this gateway.', ({ subscribers }) => subscribers),
];

function gauge(name: string, help: string, samples: StatMetric['samples']): StatMetric {
  return { name, type: 'gauge', help, samples };
}

function counter(name: string, help: string, samples: StatMetric['samples']): StatMetric {
  return { name, type: 'counter', help, samples };
}

/** A queue that cannot be read now (-1) has no samples rather than a false zero. */
function jobGauge(name: string, help: string, value: (jobs: Stats['jobs']) => number): StatMetric {
  return {
    ...gauge(name, help, ({ stats: { jobs } }) => (value(jobs) < 0 ? [] : [[{ backend: jobs.backend }, value(jobs)]])),
    labelNames: ['backend'],
  };
}

function nodeGauge(name: string, help: string, value: (node: ClusterNode) => number): StatMetric {
  return {
    ...gauge(name, help, ({ nodes }) => nodes.map((node) => [{ node: node.id }, value(node)])),
    labelNames: ['node'],
  };
}
