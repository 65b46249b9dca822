import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { startNginx } from '../../../test-support/nginx.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { EventStream } from '../src/events/event-stream.js';
import { GatewayEvents } from '../src/events/gateway-events.js';
import { admin, call, queryIndex, uploadBytes, waitFor } from './support.js';

const UNKNOWN_ID = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';

async function stats(url: string) {
  const reply = await call(`${url}/v1/stats`, { headers: admin });
  expect(reply.status).toBe(200);
  return reply.json;
}

async function metrics(url: string): Promise<Map<string, number>> {
  const reply = await call(`${url}/metrics`, { headers: admin });
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  return parseExposition(reply.body.toString('utf8'));
}

/** Ours are legim_ and snake case; the standard process metrics have digits (`nodejs_eventloop_lag_p99_seconds`). */
const METRIC_NAME = /^(legim_[a-z_]+|(process|nodejs)_[a-z0-9_]+)$/;

/**
 * A strict reading of the text exposition format: every sample follows a
 * TYPE line of its metric (a histogram's `_bucket`, `_sum` and `_count`
 * samples follow its own), names are legim_ and snake case but for the
 * standard process_ and nodejs_ ones, values numbers. Returns each sample by
 * its name and labels as written.
 */
function parseExposition(text: string): Map<string, number> {
  expect(text.endsWith('\n')).toBe(true);
  const typed = new Map<string, string>();
  const helped = new Set<string>();
  const samples = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    // The format allows empty lines; prom-client puts one between metrics.
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (comment) {
      const [, kind, name, rest] = comment;
      expect(name).toMatch(METRIC_NAME);
      if (kind === 'HELP') helped.add(name!);
      else {
        expect(['counter', 'gauge', 'histogram']).toContain(rest);
        expect(typed.has(name!), `${name} typed twice`).toBe(false);
        typed.set(name!, rest!);
      }
      continue;
    }
    const sample = /^([a-z0-9_]+)(\{[a-z_]+="(?:[^"\\]|\\.)*"(?:,[a-z_]+="(?:[^"\\]|\\.)*")*\})? (\S+)$/.exec(line);
    expect(sample, `not a sample line: ${JSON.stringify(line)}`).not.toBeNull();
    const [, name, labels = '', value] = sample!;
    const family = typed.has(name!) ? name! : name!.replace(/_(bucket|sum|count)$/, '');
    expect(typed.has(family), `${name} has no TYPE line before it`).toBe(true);
    expect(helped.has(family), `${name} has no HELP line`).toBe(true);
    if (family !== name) expect(typed.get(family)).toBe('histogram');
    expect(Number.isFinite(Number(value)), `${line}: value is not a number`).toBe(true);
    if (typed.get(name!) === 'counter') expect(name).toMatch(/_total$/);
    samples.set(name! + labels, Number(value));
  }
  return samples;
}

/** An SSE stream read at the HTTP level: its blocks as they arrive. */
async function openEvents(url: string, headers: Record<string, string> = {}) {
  const response = await request(`${url}/v1/events`, { headers: { ...admin, ...headers } });
  const blocks: { id?: string; event?: string; data?: string; comment?: string }[] = [];
  let ended: 'end' | 'error' | undefined;
  let buffer = '';
  response.body.setEncoding('utf8');
  response.body.on('data', (chunk: string) => {
    buffer += chunk;
    let cut: number;
    while ((cut = buffer.indexOf('\n\n')) !== -1) {
      const block: Record<string, string> = {};
      for (const line of buffer.slice(0, cut).split('\n')) {
        if (line.startsWith(':')) block.comment = line.slice(1).trim();
        else block[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2);
      }
      blocks.push(block);
      buffer = buffer.slice(cut + 2);
    }
  });
  response.body.on('end', () => (ended = 'end'));
  response.body.on('error', () => (ended ??= 'error'));
  return {
    response,
    blocks,
    events: () => blocks.filter((block) => block.data !== undefined),
    ended: () => ended,
    close: () => response.body.destroy(),
  };
}

describe('GET /v1/stats and /metrics', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  afterAll(() => cluster?.close());

  it('need the admin key, like every operations endpoint', async () => {
    const { url } = cluster.gateway;
    for (const path of ['/v1/stats', '/v1/events', '/metrics']) {
      const without = await call(`${url}${path}`);
      expect(without.status, path).toBe(401);
      expect(without.json.error.code).toBe('UNAUTHORIZED');
      const wrong = await call(`${url}${path}`, { headers: { authorization: 'Bearer not-the-admin-key-at-all' } });
      expect(wrong.status, path).toBe(401);
    }
  });

  it('count an upload, a download, refused downloads and a delete exactly', async () => {
    const { url } = cluster.gateway;
    const before = await stats(url);
    expect(before.jobs.backend).toBe('sqlite');
    expect(before.nodes).toMatchObject({ up: 2, suspect: 0, down: 0 });
    expect(before.nodes.totalBytes).toBeGreaterThan(0);
    expect(before.replication).toEqual({ target: 3, underReplicated: 0 });

    const up = await uploadBytes(url, fixtureBytes('png-palette.png'), { downloads: 1 });
    expect(up.status).toBe(201);
    const size = up.json.size as number;
    const afterUpload = await stats(url);
    expect(afterUpload.files.live).toBe(before.files.live + 1);
    expect(afterUpload.files.bytes).toBe(before.files.bytes + size);
    expect(afterUpload.traffic).toEqual({
      ...before.traffic,
      uploads: before.traffic.uploads + 1,
      uploadBytes: before.traffic.uploadBytes + size,
    });

    expect((await call(up.json.url)).status).toBe(200);
    const afterDownload = await stats(url);
    expect(afterDownload.traffic).toEqual({
      ...afterUpload.traffic,
      downloads: afterUpload.traffic.downloads + 1,
      downloadBytes: afterUpload.traffic.downloadBytes + size,
    });
    // Its only download is taken: the file is no longer live, though still in the index for the grace period.
    expect(afterDownload.files.live).toBe(before.files.live);
    expect(afterDownload.files.bytes).toBe(before.files.bytes);

    expect((await call(up.json.url)).status).toBe(410);
    expect((await call(`${url}/d/${UNKNOWN_ID}`)).status).toBe(404);
    const afterRefusals = await stats(url);
    expect(afterRefusals.traffic).toEqual({ ...afterDownload.traffic, refused: afterDownload.traffic.refused + 2 });

    const other = await uploadBytes(url, fixtureBytes('tiny-1x1.png'));
    const beforeDelete = await stats(url);
    expect(beforeDelete.files.live).toBe(before.files.live + 1);
    const deleted = await call(`${url}/v1/files/${other.json.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${other.json.deleteToken}` },
    });
    expect(deleted.status).toBe(204);
    const afterDelete = await stats(url);
    expect(afterDelete.files.live).toBe(before.files.live);
    expect(afterDelete.files.bytes).toBe(before.files.bytes);
    expect(afterDelete.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(afterDelete.at)).toBeGreaterThan(Date.parse(before.at) - 1);
  });

  it('counts variants once the previews are made, and processing files until then', async () => {
    const { url } = cluster.gateway;
    // Earlier uploads are still being processed: their variants would count too.
    await waitFor(async () => {
      const { jobs } = await stats(url);
      return jobs.waiting === 0 && jobs.running === 0;
    }, 'the job queue to be idle');
    const before = await stats(url);
    const up = await uploadBytes(url, fixtureBytes('photo-small-flower-1600x1203.jpg'));
    await waitFor(async () => (await call(`${url}/v1/files/${up.json.id}`)).json.status === 'ready', 'processing');
    const after = await stats(url);
    const file = (await call(`${url}/v1/files/${up.json.id}`)).json;
    const variantBytes = Object.values(file.variants as Record<string, { size: number }>).reduce(
      (sum, v) => sum + v.size,
      0,
    );
    expect(after.variants.count).toBe(before.variants.count + Object.keys(file.variants).length);
    expect(after.variants.bytes).toBe(before.variants.bytes + variantBytes);
    expect(after.files.processing).toBe(before.files.processing);
  });

  it('serve valid Prometheus exposition whose values move with an upload', async () => {
    const { url } = cluster.gateway;
    const before = await metrics(url);
    for (const name of [
      'legim_uploads_total',
      'legim_upload_bytes_total',
      'legim_downloads_total',
      'legim_download_bytes_total',
      'legim_files',
      'legim_file_bytes',
      'legim_event_subscribers',
      'legim_nodes{status="up"}',
      'legim_jobs_waiting{backend="sqlite"}',
      'legim_downloads_refused_total{code="FILE_NOT_FOUND"}',
    ]) {
      expect(before.has(name), name).toBe(true);
    }
    expect(before.get('legim_nodes{status="up"}')).toBe(2);
    for (const node of cluster.nodes) {
      expect(before.get(`legim_node_total_bytes{node="${node.nodeId}"}`)).toBeGreaterThan(0);
      expect(before.get(`legim_node_latency_seconds{node="${node.nodeId}"}`)).toBeGreaterThan(0);
    }

    const bytes = fixtureBytes('gif-animated-8-frames.gif');
    expect((await uploadBytes(url, bytes)).status).toBe(201);
    expect((await call(`${url}/d/${UNKNOWN_ID}`)).status).toBe(404);
    const after = await metrics(url);
    expect(after.get('legim_uploads_total')).toBe(before.get('legim_uploads_total')! + 1);
    expect(after.get('legim_upload_bytes_total')).toBe(before.get('legim_upload_bytes_total')! + bytes.length);
    expect(after.get('legim_files')).toBe(before.get('legim_files')! + 1);
    expect(after.get('legim_file_bytes')).toBe(before.get('legim_file_bytes')! + bytes.length);
    expect(after.get('legim_downloads_refused_total{code="FILE_NOT_FOUND"}')).toBe(
      before.get('legim_downloads_refused_total{code="FILE_NOT_FOUND"}')! + 1,
    );
  });
});

describe('GET /v1/stats with a node down', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
  });
  afterAll(() => cluster?.close());

  it('counts the files whose copies on live nodes fall short', async () => {
    const { url } = cluster.gateway;
    for (const name of ['tiny-1x1.png', 'png-alpha.png']) await uploadBytes(url, fixtureBytes(name));
    expect((await stats(url)).replication).toEqual({ target: 3, underReplicated: 0 });
    // Two nodes: every file has a copy on each, and nowhere to make another.
    await cluster.nodes[0]!.kill('SIGKILL');
    await waitFor(async () => (await stats(url)).nodes.down === 1, 'the node to be down');
    await waitFor(async () => (await stats(url)).replication.underReplicated === 2, 'the files to count as short');
    const exposition = await metrics(url);
    expect(exposition.get('legim_files_under_replicated')).toBe(2);
    expect(exposition.get('legim_nodes{status="down"}')).toBe(1);
    expect(exposition.get(`legim_node_up{node="${cluster.nodes[0]!.nodeId}"}`)).toBe(0);
  });
});

describe('GET /v1/events', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    // Four nodes for three copies: a lost node's copies have somewhere to go.
    cluster = await startCluster({ nodes: 4, gateway: { repairAfter: '0.5' } });
  });
  afterAll(() => cluster?.close());

  it('streams events as SSE, and replays what a reconnecting client missed, once', async () => {
    const { url } = cluster.gateway;
    const first = await openEvents(url);
    expect(first.response.statusCode).toBe(200);
    expect(first.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(first.response.headers['cache-control']).toBe('no-store');
    expect(first.response.headers['x-accel-buffering']).toBe('no');

    const a = await uploadBytes(url, fixtureBytes('tiny-1x1.png'));
    await waitFor(() => first.events().some((e) => e.data?.includes(a.json.id)), 'the first upload event');
    const seen = first.events().find((e) => e.event === 'file.uploaded' && e.data!.includes(a.json.id))!;
    expect(JSON.parse(seen.data!)).toMatchObject({ fileId: a.json.id, size: a.json.size, contentType: 'image/png' });
    expect(Number(seen.id)).toBeGreaterThan(0);
    const lastId = first.blocks.findLast((block) => block.id !== undefined)!.id!;
    first.close();
    await waitFor(
      async () => (await metrics(url)).get('legim_event_subscribers') === 0,
      'the server to drop the stream',
    );

    // While nobody listens.
    const b = await uploadBytes(url, fixtureBytes('png-alpha.png'));
    expect((await call(b.json.url)).status).toBe(200);

    const again = await openEvents(url, { 'last-event-id': lastId });
    const ofB = () => again.events().filter((e) => e.data!.includes(b.json.id));
    await waitFor(() => ofB().some((e) => e.event === 'file.downloaded'), 'the missed events');
    expect(ofB().map((e) => e.event)).toEqual(['file.uploaded', 'file.downloaded']);
    expect(JSON.parse(ofB()[1]!.data!)).toMatchObject({ downloadsLeft: b.json.downloadsLeft - 1, bytes: b.json.size });
    // Nothing seen before is repeated, nothing in between is lost.
    const ids = again.events().map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => Number(lastId) + 1 + i));
    again.close();
  });

  it('sends a new client only what happens after it connects', async () => {
    const { url } = cluster.gateway;
    await uploadBytes(url, fixtureBytes('tiny-1x1.png'));
    const fresh = await openEvents(url);
    const c = await uploadBytes(url, fixtureBytes('tiny-1x1.png'));
    const uploads = () => fresh.events().filter((e) => e.event === 'file.uploaded');
    await waitFor(() => uploads().length > 0, 'an upload event');
    expect(uploads().map((e) => JSON.parse(e.data!).fileId)).toEqual([c.json.id]);
    fresh.close();
  });

  it('reports the copies the repairer makes of a lost node', async () => {
    const { url } = cluster.gateway;
    const stream = await openEvents(url);
    const up = await uploadBytes(url, fixtureBytes('tiny-1x1.png'));
    const [holder] = queryIndex<{ node_id: string }>(
      cluster.gateway.dataDir,
      'SELECT node_id FROM replicas WHERE blob_key = ?',
      up.json.id,
    );
    await cluster.nodes.find((node) => node.nodeId === holder!.node_id)!.kill('SIGKILL');
    const repaired = () =>
      stream.events().find((e) => e.event === 'replica.repaired' && JSON.parse(e.data!).blobKey === up.json.id);
    await waitFor(() => repaired() !== undefined, 'the original to be copied again');
    const { nodeId, fileId } = JSON.parse(repaired()!.data!);
    expect(fileId).toBe(up.json.id);
    expect(nodeId).not.toBe(holder!.node_id);
    const statuses = stream.events().filter((e) => e.event === 'node.status' && e.data!.includes(holder!.node_id));
    expect(statuses.map((e) => JSON.parse(e.data!).status)).toEqual(['suspect', 'down']);
    stream.close();
  });

  it('streams through nginx, each event as it happens', async () => {
    const nginx = await startNginx({ upstreams: [cluster.gateway.url] });
    try {
      const stream = await openEvents(nginx.url);
      expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      const up = await uploadBytes(nginx.url, fixtureBytes('tiny-1x1.png'));
      await waitFor(
        () => stream.events().some((e) => e.event === 'file.uploaded' && e.data!.includes(up.json.id)),
        'the upload event through nginx',
      );
      stream.close();
    } finally {
      await nginx.stop();
    }
  });

  it('ends open streams cleanly when the gateway shuts down', async () => {
    const stream = await openEvents(cluster.gateway.url);
    await cluster.restartGateway();
    await waitFor(() => stream.ended() !== undefined, 'the stream to end');
    expect(stream.ended()).toBe('end');
  });
});

describe('EventStream, without a socket', () => {
  /** Reads a subscription's SSE frames as they come, the way the edge would send them. */
  function subscribe(stream: EventStream, lastEventId?: string) {
    const leave = new AbortController();
    const blocks: { id?: string; event?: string; data?: string; comment?: string }[] = [];
    const reading = (async () => {
      for await (const frame of stream.subscribe(lastEventId, leave.signal)) {
        const block: Record<string, string> = {};
        for (const line of frame.trimEnd().split('\n')) {
          if (line.startsWith(':')) block.comment = line.slice(1).trim();
          else block[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 2);
        }
        blocks.push(block);
      }
    })();
    return {
      blocks,
      events: () => blocks.filter((block) => block.data !== undefined),
      close: async () => {
        leave.abort();
        await reading;
      },
    };
  }

  it('refuses subscribers past its cap, sends heartbeats, and forgets streams whose client left', async () => {
    const stream = new EventStream(new GatewayEvents(3), { maxSubscribers: 2, heartbeatMs: 50 });
    const one = subscribe(stream);
    const two = subscribe(stream);
    expect(stream.subscribers).toBe(2);
    expect(() => stream.subscribe(undefined, new AbortController().signal)).toThrow(
      expect.objectContaining({ code: 'UNAVAILABLE' }),
    );
    await waitFor(() => one.blocks.some((block) => block.comment === 'heartbeat'), 'a heartbeat');
    await one.close();
    await two.close();
    expect(stream.subscribers).toBe(0);
  });

  it('replays only what its ring buffer still holds', async () => {
    const events = new GatewayEvents(3);
    const stream = new EventStream(events, { maxSubscribers: 5, heartbeatMs: 60_000 });
    const listener = subscribe(stream);
    for (let i = 0; i < 5; i++) events.emit({ type: 'node.joined', nodeId: `n${i}`, url: 'http://x', parentId: null });
    await waitFor(() => listener.events().length === 5, 'five events');
    const ids = listener.events().map((e) => e.id!);
    await listener.close();

    const behind = subscribe(stream, ids[0]);
    await waitFor(() => behind.events().length === 3, 'the buffered events');
    expect(behind.events().map((e) => e.id)).toEqual(ids.slice(2));
    await behind.close();

    const stranger = subscribe(stream, '12');
    await waitFor(() => stranger.events().length === 3, 'the whole buffer');
    await stranger.close();
    stream.close();
  });
});
