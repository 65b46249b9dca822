import type { Logger } from '@legim/node';
import type { Stats } from '@legim/sdk';
import type { NodeRegistry } from '../cluster/node-registry.js';
import { EventStream } from '../events/event-stream.js';
import type { GatewayEvents } from '../events/gateway-events.js';
import type { JobQueue } from '../jobs/index.js';
import type { IndexTotals } from './index-totals.js';
import { ReplicationCensus } from './replication-census.js';
import type { GatewayMetrics } from './prometheus.js';
import { StatsService } from './stats-service.js';
import { TrafficCounters } from './traffic-counters.js';

/** Event streams open at once; each costs a socket and a listener. */
const MAX_EVENT_SUBSCRIBERS = 100;
/** Under the 60 s idle cut-off of the gateway and the usual proxy read timeouts. */
const HEARTBEAT_MS = 15_000;

/** What the operators' monitoring endpoints serve from. */
export interface OperationsApi {
  stats: StatsService;
  events: EventStream;
  /** Also counts refused downloads, which the download route reports. */
  traffic: TrafficCounters;
  /** `GET /metrics`, and the request latencies the HTTP edge reports (`observeRequest`). */
  metrics: GatewayMetrics;
}

export interface OperationsDeps {
  events: GatewayEvents;
  totals: IndexTotals;
  registry: NodeRegistry;
  jobs: JobQueue;
  jobBackend: Stats['jobs']['backend'];
  replicas: number;
  startedAt: number;
  logger: Logger;
}

/** Wires the gateway's stats, event stream and metrics. */
export function createOperations(deps: OperationsDeps): OperationsApi {
  const { events, totals, registry } = deps;
  const traffic = new TrafficCounters(events);
  const stream = new EventStream(events, { maxSubscribers: MAX_EVENT_SUBSCRIBERS, heartbeatMs: HEARTBEAT_MS });
  const census = new ReplicationCensus(
    totals,
    () =>
      registry
        .all()
        .filter((node) => node.status === 'down')
        .map((node) => node.id),
    deps.logger,
  );
  const stats = new StatsService({
    ...deps,
    totals,
    census,
    traffic,
    subscribers: () => stream.subscribers,
  });
  return { stats, events: stream, traffic, metrics: stats.metrics };
}
