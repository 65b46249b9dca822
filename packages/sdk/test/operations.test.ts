import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes } from '../../../test-support/fixtures.js';
import { freePort } from '../../../test-support/free-port.js';
import { Legim, LegimError, type LegimEvent } from '../src/index.js';
import { parseServerSentEvents } from '../src/server-sent-events.js';
import { tempDir, waitFor } from './support.js';

let cluster: TestCluster;

beforeAll(async () => {
  // No grace period: a used-up file is deleted at the next sweep.
  cluster = await startCluster({ nodes: 3, gateway: { deleteGrace: '0' } });
});

afterAll(async () => {
  await cluster?.close();
});

const client = () => new Legim({ url: cluster.gateway.url, apiKey: testAdminKey });

/** Event streams open on the gateway, as its metrics tell. */
async function subscribers(): Promise<number> {
  const res = await fetch(`${cluster.gateway.url}/metrics`, { headers: { authorization: `Bearer ${testAdminKey}` } });
  const line = (await res.text()).split('\n').find((l) => l.startsWith('legim_event_subscribers '));
  return Number(line?.split(' ')[1]);
}

/** Iterates `legim.events()` in the background, keeping what arrives. */
/** Every stream a test opened; closed after each test, so a failed one cannot hold the next test's subscription count. */
const following = new Set<AbortController>();

function follow(legim: Legim) {
  const controller = new AbortController();
  following.add(controller);
  const seen: LegimEvent[] = [];
  const done = (async () => {
    for await (const event of legim.events({ signal: controller.signal })) seen.push(event);
  })();
  const find = <T extends LegimEvent['type']>(type: T, match: (e: Extract<LegimEvent, { type: T }>) => boolean) =>
    seen.find((e): e is Extract<LegimEvent, { type: T }> => e.type === type && match(e as never));
  const next = async <T extends LegimEvent['type']>(
    type: T,
    match: (e: Extract<LegimEvent, { type: T }>) => boolean = () => true,
  ) => {
    await waitFor(() => find(type, match) !== undefined, `a ${type} event`);
    return find(type, match)!;
  };
  return { seen, done, next, stop: () => controller.abort() };
}

describe('stats()', () => {
  it('reads the gateway numbers, which move with an upload', async () => {
    const legim = client();
    const before = await legim.stats();
    expect(before.jobs.backend).toBe('sqlite');
    expect(before.nodes.up).toBe(3);
    const file = await legim.upload(fixture('png-alpha.png'));
    const after = await legim.stats();
    expect(after.traffic.uploads).toBe(before.traffic.uploads + 1);
    expect(after.traffic.uploadBytes).toBe(before.traffic.uploadBytes + file.size);
    expect(after.files.live).toBe(before.files.live + 1);
  });

  it('rejects without the admin key, for stats and events alike', async () => {
    const anonymous = new Legim({ url: cluster.gateway.url });
    await expect(anonymous.stats()).rejects.toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
    const iterator = anonymous.events()[Symbol.asyncIterator]();
    const error = await iterator.next().catch((e: unknown) => e);
    expect(LegimError.is(error) && error.code).toBe('UNAUTHORIZED');
  });

  it('events() throws when the gateway cannot be reached at first', async () => {
    const nobody = new Legim({ url: `http://127.0.0.1:${await freePort()}`, apiKey: testAdminKey });
    const events = nobody.events();
    const error = await events[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(LegimError.is(error) && error.code).toBe('NETWORK_ERROR');
  });

  it('can be aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(client().stats({ signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('events()', () => {
  afterEach(() => {
    for (const controller of following) controller.abort();
    following.clear();
  });

  it('reports uploads, downloads, processing and every kind of deletion', async () => {
    const legim = client();
    const events = follow(legim);
    await waitFor(async () => (await subscribers()) === 1, 'the subscription');

    const file = await legim.upload(fixture('photo-small-flower-1600x1203.jpg'), { downloads: 2 });
    expect(await events.next('file.uploaded', (e) => e.fileId === file.id)).toMatchObject({
      size: file.size,
      contentType: 'image/jpeg',
    });
    await legim.downloadTo(file.id, join(tempDir(), 'copy.jpg'));
    expect(await events.next('file.downloaded', (e) => e.fileId === file.id)).toMatchObject({
      downloadsLeft: 1,
      bytes: file.size,
    });
    await legim.waitUntilProcessed(file.id);
    expect(await events.next('file.processed', (e) => e.fileId === file.id)).toMatchObject({ status: 'ready' });
    await legim.delete(file.id, file.deleteToken);
    expect(await events.next('file.deleted', (e) => e.fileId === file.id)).toMatchObject({ reason: 'deleted' });

    const once = await legim.upload(fixtureBytes('tiny-1x1.png'), { downloads: 1 });
    await legim.downloadTo(once.id, join(tempDir(), 'once.png'));
    expect(await events.next('file.deleted', (e) => e.fileId === once.id)).toMatchObject({ reason: 'used-up' });

    const brief = await legim.upload(fixtureBytes('tiny-1x1.png'), { ttl: 1 });
    expect(await events.next('file.deleted', (e) => e.fileId === brief.id)).toMatchObject({ reason: 'expired' });

    for (const event of events.seen) expect(Number.isNaN(Date.parse(event.at))).toBe(false);
    events.stop();
    await events.done;
  });

  it('reports a node that dies', async () => {
    const events = follow(client());
    await waitFor(async () => (await subscribers()) === 1, 'the subscription');
    const victim = cluster.nodes[2]!;
    await victim.kill('SIGKILL');
    const down = await events.next('node.status', (e) => e.nodeId === victim.nodeId && e.status === 'down');
    expect(down.previous).toBe('suspect');
    events.stop();
    await events.done;
  });

  it('reports a node that joins', async () => {
    const events = follow(client());
    await waitFor(async () => (await subscribers()) === 1, 'the subscription');
    const node = await cluster.startNode();
    const joined = await events.next('node.joined', (e) => e.nodeId === node.nodeId);
    expect(joined).toMatchObject({ url: node.url, parentId: null });
    events.stop();
    await events.done;
  });

  it('ends quietly when its signal aborts, and the gateway lets the stream go', async () => {
    const events = follow(client());
    await waitFor(async () => (await subscribers()) === 1, 'the subscription');
    events.stop();
    await expect(events.done).resolves.toBeUndefined();
    await waitFor(async () => (await subscribers()) === 0, 'the gateway to drop the stream');
  });

  it('ends when the loop is left', async () => {
    const legim = client();
    await waitFor(async () => (await subscribers()) === 0, 'no stream open');
    const iterator = legim.events()[Symbol.asyncIterator]();
    try {
      const first = iterator.next();
      await waitFor(async () => (await subscribers()) === 1, 'the subscription');
      const file = await legim.upload(fixtureBytes('tiny-1x1.png'));
      // A node's status may change meanwhile on a loaded machine: read past such events.
      let event = (await first).value as LegimEvent;
      while (event.type !== 'file.uploaded') event = (await iterator.next()).value as LegimEvent;
      expect(event).toMatchObject({ type: 'file.uploaded', fileId: file.id });
    } finally {
      // What `break` in a for await loop does.
      await iterator.return?.();
    }
    await waitFor(async () => (await subscribers()) === 0, 'the gateway to drop the stream');
  });

  it('goes on by itself across a gateway restart', async () => {
    const legim = client();
    const events = follow(legim);
    await waitFor(async () => (await subscribers()) === 1, 'the subscription');
    await cluster.restartGateway();
    await cluster.waitForNodes(3);
    const file = await legim.upload(fixtureBytes('tiny-1x1.png'));
    await events.next('file.uploaded', (e) => e.fileId === file.id);
    expect(events.seen.filter((e) => e.type === 'file.uploaded' && e.fileId === file.id)).toHaveLength(1);
    events.stop();
    await events.done;
  });
});

describe('the SSE parser', () => {
  async function parse(...chunks: string[]) {
    const bytes = (async function* () {
      for (const chunk of chunks) yield Buffer.from(chunk);
    })();
    const blocks = [];
    for await (const block of parseServerSentEvents(bytes)) blocks.push(block);
    return blocks;
  }

  it('reads blocks across chunk boundaries, in any line ending, skipping comments', async () => {
    const blocks = await parse(
      ': heartbeat\n\nretry: 2000\nid: 7\n\n',
      'id: 8\r\nevent: file.uploaded\r\ndata: {"a":',
      '1}\r',
      '\n\r\nevent: x\rdata: one\rdata:two\r\r',
      'data: never ended\n',
    );
    expect(blocks).toEqual([
      { id: '7', event: 'message', data: undefined },
      { id: '8', event: 'file.uploaded', data: '{"a":1}' },
      { id: undefined, event: 'x', data: 'one\ntwo' },
    ]);
  });

  it('keeps a character whose bytes are split between chunks whole', async () => {
    const text = Buffer.from('data: 5 €\n\n');
    const at = text.indexOf(0xe2) + 1;
    const bytes = (async function* () {
      yield text.subarray(0, at);
      yield text.subarray(at);
    })();
    const blocks = [];
    for await (const block of parseServerSentEvents(bytes)) blocks.push(block);
    expect(blocks).toEqual([{ id: undefined, event: 'message', data: '5 €' }]);
  });
});
