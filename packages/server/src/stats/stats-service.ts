import { summarizeCapacity, type Stats } from '@legim/sdk';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { JobCounts, JobQueue } from '../jobs/index.js';
import type { IndexTotals } from './index-totals.js';
import { GatewayMetrics } from './prometheus.js';
import type { ReplicationCensus } from './replication-census.js';
import type { TrafficCounters } from './traffic-counters.js';

export interface StatsSources {
  startedAt: number;
  replicas: number;
  jobBackend: Stats['jobs']['backend'];
  totals: IndexTotals;
  census: ReplicationCensus;
  traffic: TrafficCounters;
  jobs: JobQueue;
  registry: NodeRegistry;
  /** Open `GET /v1/events` streams. */
  subscribers: () => number;
}

/** A queue that cannot be read now (RabbitMQ unreachable) reports -1s rather than failing the whole answer. */
const UNKNOWN_JOBS: JobCounts = { waiting: -1, running: -1, deadLettered: -1 };

/** `GET /v1/stats` and `GET /metrics`: the same numbers, read cheaply each time they are asked for. */
export class StatsService {
  /** The same numbers for Prometheus, with the request latencies and the process metrics. */
  readonly metrics: GatewayMetrics;

  constructor(private readonly sources: StatsSources) {
    this.metrics = new GatewayMetrics(async () => ({
      stats: await this.read(),
      nodes: this.sources.registry.all(),
      refusals: this.sources.traffic.refusals,
      subscribers: this.sources.subscribers(),
    }));
  }

  async read(): Promise<Stats> {
    const { startedAt, replicas, jobBackend, totals, census, traffic, jobs, registry } = this.sources;
    const now = Date.now();
    const [underReplicated, jobCounts, numbers] = await Promise.all([
      census.underReplicated(),
      jobs.counts().catch(() => UNKNOWN_JOBS),
      totals.read(now),
    ]);
    const nodes = registry.all();
    const count = (status: string) => nodes.filter((node) => node.status === status).length;
    // A down node's last heartbeat says nothing about what can be stored now.
    // Nodes sharing a filesystem share its size and free space: counted once.
    const capacity = summarizeCapacity(nodes.filter((node) => node.status !== 'down'));
    return {
      at: new Date(now).toISOString(),
      uptimeSeconds: Math.floor((now - startedAt) / 1000),
      ...numbers,
      traffic: {
        uploads: traffic.uploads,
        uploadBytes: traffic.uploadBytes,
        downloads: traffic.downloads,
        downloadBytes: traffic.downloadBytes,
        refused: traffic.refused,
      },
      replication: { target: replicas, underReplicated },
      jobs: { backend: jobBackend, ...jobCounts },
      nodes: {
        up: count('up'),
        suspect: count('suspect'),
        down: count('down'),
        usedBytes: capacity.usedBytes,
        freeBytes: capacity.freeBytes,
        totalBytes: capacity.totalBytes,
        filesystems: capacity.filesystems,
      },
    };
  }

  /** The Prometheus text exposition: {@link GatewayMetrics.exposition}. */
  exposition(): Promise<string> {
    return this.metrics.exposition();
  }
}
