import { collectDefaultMetrics, Counter, Gauge, Histogram, prometheusContentType, Registry } from 'prom-client';
import { STAT_METRICS, type MetricsInput, type StatMetric } from './stat-metrics.js';

export type { MetricsInput } from './stat-metrics.js';

/** The text exposition format 0.0.4, as prom-client writes it. */
export const METRICS_CONTENT_TYPE = prometheusContentType;

/**
 * From a few milliseconds (a `HEAD /d/:id`, a refusal) to a minute (a large
 * upload, or a download over a slow link): the range a storage API spans.
 */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The gateway's Prometheus metrics, on a registry of its own (never
 * prom-client's global one, so gateways sharing a process stay apart): the
 * `legim_*` numbers of the stats, set from one read of them at each scrape;
 * the request latency histogram, fed by the HTTP edge; and the process
 * metrics prom-client collects (CPU, memory and heap, event-loop lag, GC),
 * under their standard `process_*` and `nodejs_*` names. Values are in bytes
 * and seconds, as Prometheus expects base units.
 *
 * @example
 * const metrics = new GatewayMetrics(() => stats.metricsInput());
 * metrics.observeRequest('/d/:id', 'GET', 200, 0.012);
 * res.writeHead(200, { 'content-type': metrics.contentType }).end(await metrics.exposition());
 */
export class GatewayMetrics {
  readonly contentType = METRICS_CONTENT_TYPE;
  readonly #registry = new Registry();
  readonly #read: () => Promise<MetricsInput>;
  readonly #stats: { metric: StatMetric; collector: Counter | Gauge }[];
  readonly #requests: Histogram<'route' | 'method' | 'status_class'>;

  constructor(read: () => Promise<MetricsInput>) {
    this.#read = read;
    const registers = [this.#registry];
    this.#stats = STAT_METRICS.map((metric) => {
      const options = {
        name: `legim_${metric.name}`,
        help: metric.help,
        labelNames: metric.labelNames ?? [],
        registers,
      };
      return { metric, collector: metric.type === 'counter' ? new Counter(options) : new Gauge(options) };
    });
    this.#requests = new Histogram({
      name: 'legim_http_request_duration_seconds',
      help: 'Time from a request arriving to its answer ending, by route pattern, method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    collectDefaultMetrics({ register: this.#registry });
  }

  /**
   * Records one answered request. `route` is the pattern that matched
   * (`/d/:id`), never the raw path, so the label keeps a handful of values;
   * `status` becomes its class (`2xx`, `4xx`...).
   */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requests.observe({ route, method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
  }

  /** The text exposition of every metric, with the stats read once for this scrape. */
  async exposition(): Promise<string> {
    const input = await this.#read();
    for (const { metric, collector } of this.#stats) {
      // From empty each scrape: a node that left, or a queue unread now, has no sample rather than a stale one.
      collector.reset();
      const samples = metric.samples(input);
      for (const [labels, value] of typeof samples === 'number' ? [[{}, samples] as const] : samples) {
        // A counter is a running total kept by the stats: set whole, never added to here.
        if (collector instanceof Counter) collector.inc(labels, value);
        else collector.set(labels, value);
      }
    }
    return this.#registry.metrics();
  }
}
