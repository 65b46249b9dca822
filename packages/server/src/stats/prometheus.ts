import type { Stats } from '@legim/sdk';
import type { ClusterNode } from '../cluster/node-registry.js';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsInput {
  stats: Stats;
  nodes: ClusterNode[];
  refusals: ReadonlyMap<string, number>;
  subscribers: number;
}

type Labels = Record<string, string>;
type Sample = [labels: Labels, value: number];

/**
 * Writes the Prometheus text exposition format (0.0.4) by hand: every
 * metric with its HELP and TYPE, then its samples. Names start with
 * `legim_`; byte and time values are in bytes and seconds, as Prometheus
 * expects base units.
 */
export function renderMetrics({ stats, nodes, refusals, subscribers }: MetricsInput): string {
  const out: string[] = [];
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: number | Sample[]) => {
    out.push(`# HELP legim_${name} ${help}`, `# TYPE legim_${name} ${type}`);
    for (const [labels, value] of typeof samples === 'number' ? [[{}, samples] as Sample] : samples) {
      out.push(`legim_${name}${labelText(labels)} ${value}`);
    }
  };
  const { traffic, files, variants, replication, jobs } = stats;

  metric('uptime_seconds', 'gauge', 'Seconds since this gateway started.', stats.uptimeSeconds);
  metric('uploads_total', 'counter', 'Uploads this gateway accepted.', traffic.uploads);
  metric('upload_bytes_total', 'counter', 'Bytes of the uploads this gateway accepted.', traffic.uploadBytes);
  metric('downloads_total', 'counter', 'Downloads this gateway served (each took one download).', traffic.downloads);
  metric('download_bytes_total', 'counter', 'Bytes this gateway sent for downloads.', traffic.downloadBytes);
  metric(
    'downloads_refused_total',
    'counter',
    'Downloads this gateway refused, by error code (404 unknown, 410 used up, expired or deleted).',
    [...refusals].map(([code, count]) => [{ code }, count]),
  );
  metric('files', 'gauge', 'Live files in the index (not expired, not deleted, downloads left).', files.live);
  metric('file_bytes', 'gauge', 'Bytes of the originals of the live files (one copy).', files.bytes);
  metric('files_processing', 'gauge', 'Live files whose variants are still being made.', files.processing);
  metric('files_failed', 'gauge', 'Live files whose processing failed.', files.failed);
  metric('variants', 'gauge', 'Variants (previews) in the index.', variants.count);
  metric('variant_bytes', 'gauge', 'Bytes of the variants in the index (one copy).', variants.bytes);
  metric('replicas_target', 'gauge', 'Copies kept of each file.', replication.target);
  metric(
    'files_under_replicated',
    'gauge',
    'Live files with fewer durable copies on nodes not down than they want.',
    replication.underReplicated,
  );
  // A queue that cannot be read now (-1) has no samples rather than a false zero.
  const known = (value: number): Sample[] => (value < 0 ? [] : [[{ backend: jobs.backend }, value]]);
  metric('jobs_waiting', 'gauge', 'Jobs due and waiting for a worker.', known(jobs.waiting));
  metric('jobs_running', 'gauge', 'Jobs being worked on.', known(jobs.running));
  metric('jobs_dead_lettered', 'gauge', 'Jobs given up on after their retries.', known(jobs.deadLettered));
  metric(
    'nodes',
    'gauge',
    'Storage nodes by status as this gateway probes them.',
    (['up', 'suspect', 'down'] as const).map((status) => [{ status }, stats.nodes[status]]),
  );
  metric(
    'node_up',
    'gauge',
    '1 if the storage node answers its probes, else 0.',
    perNode(nodes, (n) => +(n.status === 'up')),
  );
  metric(
    'node_used_bytes',
    'gauge',
    'Bytes used on the node, from its latest heartbeat.',
    perNode(nodes, (n) => n.stats.usedBytes),
  );
  metric(
    'node_free_bytes',
    'gauge',
    'Bytes free on the node, from its latest heartbeat.',
    perNode(nodes, (n) => n.stats.freeBytes),
  );
  metric(
    'node_total_bytes',
    'gauge',
    'Size of the node disk, from its latest heartbeat.',
    perNode(nodes, (n) => n.stats.totalBytes),
  );
  metric(
    'node_latency_seconds',
    'gauge',
    'Moving average of the probe round trip to the node.',
    nodes.filter((n) => n.latencyMs !== undefined).map((n) => [{ node: n.id }, n.latencyMs! / 1000]),
  );
  metric('event_subscribers', 'gauge', 'Open GET /v1/events streams on this gateway.', subscribers);
  return `${out.join('\n')}\n`;
}

function perNode(nodes: ClusterNode[], value: (node: ClusterNode) => number): Sample[] {
  return nodes.map((node) => [{ node: node.id }, value(node)]);
}

function labelText(labels: Labels): string {
  const pairs = Object.entries(labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}
