import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stats } from '@legim/sdk';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { GatewayMetrics, type MetricsInput } from '../src/stats/prometheus.js';
import { admin, call } from './support.js';

const HISTOGRAM = 'legim_http_request_duration_seconds';

/** A quiet gateway's numbers: what the stats service would read with no files and no nodes. */
function idleInput(): MetricsInput {
  const stats: Stats = {
    at: new Date().toISOString(),
    uptimeSeconds: 1,
    files: { live: 0, bytes: 0, processing: 0, failed: 0 },
    variants: { count: 0, bytes: 0 },
    traffic: { uploads: 0, uploadBytes: 0, downloads: 0, downloadBytes: 0, refused: 0 },
    replication: { target: 3, underReplicated: 0 },
    jobs: { backend: 'sqlite', waiting: 0, running: 0, deadLettered: 0 },
    nodes: { up: 0, suspect: 0, down: 0, usedBytes: 0, freeBytes: 0, totalBytes: 0, filesystems: [] },
  };
  return { stats, nodes: [], refusals: new Map(), subscribers: 0 };
}

describe('GatewayMetrics.observeRequest', () => {
  it('counts each request in the latency histogram by route pattern, method and status class', async () => {
    const metrics = new GatewayMetrics(async () => idleInput());
    metrics.observeRequest('/d/:id', 'GET', 200, 0.004);
    metrics.observeRequest('/d/:id', 'GET', 206, 0.3);
    metrics.observeRequest('/d/:id', 'GET', 410, 0.002);
    metrics.observeRequest('/v1/files', 'POST', 503, 12);
    const text = await metrics.exposition();

    expect(text).toContain(`# TYPE ${HISTOGRAM} histogram`);
    const ok = 'route="/d/:id",method="GET",status_class="2xx"';
    expect(text).toContain(`${HISTOGRAM}_bucket{le="0.005",${ok}} 1`);
    expect(text).toContain(`${HISTOGRAM}_bucket{le="0.25",${ok}} 1`);
    expect(text).toContain(`${HISTOGRAM}_bucket{le="0.5",${ok}} 2`);
    expect(text).toContain(`${HISTOGRAM}_bucket{le="+Inf",${ok}} 2`);
    expect(text).toContain(`${HISTOGRAM}_count{${ok}} 2`);
    expect(text).toMatch(new RegExp(`${HISTOGRAM}_sum\\{${ok.replace(/[/:]/g, '\\$&')}\\} 0\\.304`));
    expect(text).toContain(`${HISTOGRAM}_count{route="/d/:id",method="GET",status_class="4xx"} 1`);
    expect(text).toContain(`${HISTOGRAM}_bucket{le="10",route="/v1/files",method="POST",status_class="5xx"} 0`);
    expect(text).toContain(`${HISTOGRAM}_bucket{le="30",route="/v1/files",method="POST",status_class="5xx"} 1`);
  });

  it('keeps each gateway apart: two in one process do not share samples', async () => {
    const a = new GatewayMetrics(async () => idleInput());
    const b = new GatewayMetrics(async () => idleInput());
    a.observeRequest('/v1/stats', 'GET', 200, 0.01);
    expect(await a.exposition()).toContain(`${HISTOGRAM}_count{route="/v1/stats",method="GET",status_class="2xx"} 1`);
    expect(await b.exposition()).not.toContain(`${HISTOGRAM}_count`);
  });
});

describe('GET /metrics on a real gateway', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
  });
  afterAll(() => cluster?.close());

  it('has the process metrics (CPU, heap, event-loop lag, GC) and the latency histogram', async () => {
    const reply = await call(`${cluster.gateway.url}/metrics`, { headers: admin });
    expect(reply.status).toBe(200);
    const text = reply.body.toString('utf8');
    for (const family of [
      '# TYPE process_cpu_user_seconds_total counter',
      '# TYPE process_resident_memory_bytes gauge',
      '# TYPE nodejs_heap_size_used_bytes gauge',
      '# TYPE nodejs_eventloop_lag_seconds gauge',
      '# TYPE nodejs_eventloop_lag_p99_seconds gauge',
      '# TYPE nodejs_gc_duration_seconds histogram',
      `# TYPE ${HISTOGRAM} histogram`,
      '# TYPE legim_uploads_total counter',
      '# TYPE legim_node_up gauge',
    ]) {
      expect(text).toContain(family);
    }
    expect(text).toMatch(/^nodejs_heap_size_used_bytes [1-9]\d*$/m);
    expect(text).toContain(`legim_node_up{node="${cluster.nodes[0]!.nodeId}"} 1`);
  });
});
