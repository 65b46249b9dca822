import { StatsSchema, IndexRebuildProgressSchema } from '@legim/sdk/protocol';
import { METRICS_CONTENT_TYPE } from '../../stats/prometheus.js';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

/** Stats, events and metrics for operators, and the index rebuild; all behind the admin key. */
export function operationsRoutes(s: GatewayServices): Route[] {
  const { stats, events } = s.operations;
  return [
    route({
      id: 'getStats',
      method: 'GET',
      path: '/v1/stats',
      summary: "This gateway's numbers",
      tag: 'operations',
      auth: 'admin',
      responses: { 200: { description: 'Read cheaply at `at`', json: StatsSchema } },
    }).handle(async () => ({ status: 200, json: await stats.read() })),
    route({
      id: 'streamEvents',
      method: 'GET',
      path: '/v1/events',
      summary: "This gateway's events as Server-Sent Events (replays after Last-Event-ID)",
      tag: 'operations',
      auth: 'admin',
      responses: {
        200: { description: 'One event per frame; see the Event schema', contentType: 'text/event-stream' },
      },
      errors: ['UNAVAILABLE'],
    }).handle(async ({ request }) => ({
      status: 200,
      headers: {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-store',
        // nginx buffers proxied responses unless told not to: events would arrive in bursts, or never.
        'X-Accel-Buffering': 'no',
      },
      stream: { chunks: events.subscribe(headerValue(request, 'last-event-id'), request.signal) },
    })),
    route({
      id: 'getMetrics',
      method: 'GET',
      path: '/metrics',
      summary: 'Prometheus metrics',
      tag: 'operations',
      auth: 'admin',
      responses: { 200: { description: 'Text exposition format', contentType: METRICS_CONTENT_TYPE } },
    }).handle(async () => ({
      status: 200,
      headers: { 'Content-Type': METRICS_CONTENT_TYPE, 'Cache-Control': 'no-store' },
      bytes: Buffer.from(await stats.exposition(), 'utf8'),
    })),
    route({
      id: 'startIndexRebuild',
      method: 'POST',
      path: '/v1/index/rebuild',
      summary: "Rebuild the index from the nodes' sidecars",
      tag: 'index',
      auth: 'admin',
      responses: { 202: { description: 'Started', json: IndexRebuildProgressSchema } },
      errors: ['REBUILD_RUNNING'],
    }).handle(async () => ({ status: 202, json: await s.rebuilder.start() })),
    route({
      id: 'getIndexRebuild',
      method: 'GET',
      path: '/v1/index/rebuild',
      summary: 'Where the index rebuild stands',
      tag: 'index',
      auth: 'admin',
      responses: { 200: { description: 'Progress', json: IndexRebuildProgressSchema } },
    }).handle(async () => ({ status: 200, json: s.rebuilder.status() })),
  ];
}
