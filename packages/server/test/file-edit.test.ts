import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayFlags, RunningGateway } from '@legim/server';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { deleteRedisKeys } from '../../../test-support/redis-keys.js';
import { ENGINES } from '../../../test-support/test-database.js';
import { admin, call, type Reply } from './support.js';

const IMAGE = fixtureBytes('gif-animated-8-frames.gif');
const HOUR = 3600_000;

/**
 * `PATCH /v1/files/:id`, `GET /v1/files` and `GET /v1/sharex` on two
 * gateways sharing one index (each engine) and one Redis: an edit made on
 * one gateway holds on the other at once, and exactly.
 */
describe.each(ENGINES)('editing and listing files on two gateways (%s)', (engine) => {
  const redisPrefix = `test-edit-${randomBytes(6).toString('hex')}:`;
  let cluster: TestCluster;
  let other: RunningGateway;
  const flags: GatewayFlags = {
    redis: 'redis://127.0.0.1:6379',
    redisPrefix,
    workers: 0,
    maxDownloads: 50,
    maxTtl: '1d',
    deleteGrace: '30s',
  };
  const a = () => cluster.gateway.url;
  const b = () => other.url;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2, engine, gateway: flags });
    other = await cluster.startPeerGateway();
  });
  afterAll(async () => {
    await other?.close();
    await cluster?.close();
    await deleteRedisKeys(redisPrefix);
  });

  async function upload(query: string, key?: string): Promise<{ id: string; deleteToken: string; json: any }> {
    const reply = await call(`${a()}/v1/files?${query}`, {
      method: 'POST',
      body: IMAGE,
      headers: { 'content-type': 'image/gif', ...(key && { authorization: `Bearer ${key}` }) },
    });
    expect(reply.status).toBe(201);
    return { id: reply.json.id, deleteToken: reply.json.deleteToken, json: reply.json };
  }

  function edit(url: string, id: string, token: string | undefined, body: unknown): Promise<Reply> {
    return call(`${url}/v1/files/${id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
      body: JSON.stringify(body),
    });
  }

  const download = async (url: string, id: string) => (await call(`${url}/d/${id}`)).status;

  async function createKey(body: object): Promise<{ id: string; secret: string }> {
    const reply = await call(`${a()}/v1/keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(reply.status).toBe(201);
    return reply.json;
  }

  it('raises the limit: the other gateway serves exactly the new total at once', async () => {
    const file = await upload('downloads=2');
    // Gateway B has the file in its cache and its count in Redis before the edit.
    expect(await download(b(), file.id)).toBe(200);
    const raised = await edit(a(), file.id, file.deleteToken, { downloads: 5 });
    expect(raised.status).toBe(200);
    expect(raised.json).toMatchObject({ id: file.id, maxDownloads: 5, downloadsLeft: 4 });
    expect((await call(`${b()}/v1/files/${file.id}`)).json).toMatchObject({ maxDownloads: 5, downloadsLeft: 4 });
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push(await download(i % 2 ? a() : b(), file.id));
    expect(statuses).toEqual([200, 200, 200, 200, 410, 410]);
  });

  it('lowers the limit: the other gateway stops at the new total, and a limit not above those taken is refused', async () => {
    const file = await upload('downloads=5');
    expect(await download(b(), file.id)).toBe(200);
    expect(await download(b(), file.id)).toBe(200);
    const tooLow = await edit(a(), file.id, file.deleteToken, { downloads: 2 });
    expect(tooLow.status).toBe(400);
    expect(tooLow.json.error.code).toBe('INVALID_OPTION');
    expect(tooLow.json.error.message).toMatch(/2 download\(s\) of this file were already taken.*at least 3/);
    const lowered = await edit(a(), file.id, file.deleteToken, { downloads: 3 });
    expect(lowered.json).toMatchObject({ maxDownloads: 3, downloadsLeft: 1 });
    expect([await download(b(), file.id), await download(b(), file.id), await download(a(), file.id)]).toEqual([
      200, 410, 410,
    ]);
  });

  it('moves the expiry on every gateway: later, then sooner, and the file expires at the new instant', async () => {
    const file = await upload('downloads=10&ttl=1h');
    expect(await download(b(), file.id)).toBe(200);
    const later = await edit(a(), file.id, file.deleteToken, { ttl: '2h' });
    expect(Date.parse(later.json.expiresAt)).toBeGreaterThan(Date.now() + 2 * HOUR - 60_000);
    expect((await call(`${b()}/v1/files/${file.id}`)).json.expiresAt).toBe(later.json.expiresAt);

    const soon = new Date(Date.now() + 1500).toISOString();
    const sooner = await edit(b(), file.id, testAdminKey, { expiresAt: soon });
    expect(sooner.status).toBe(200);
    expect(sooner.json.expiresAt).toBe(soon);
    expect(await download(b(), file.id)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, Date.parse(soon) - Date.now() + 50));
    for (const url of [a(), b()]) {
      const reply = await call(`${url}/d/${file.id}`);
      expect(reply.status).toBe(410);
      expect(reply.json.error.code).toBe('EXPIRED');
    }
    const revive = await edit(a(), file.id, file.deleteToken, { ttl: '1h' });
    expect(revive.status).toBe(410);
    expect(revive.json.error).toMatchObject({ code: 'EXPIRED', gone: { state: 'expired' } });
    // The expiry itself while the row is there; once a sweep reaped it, when its bytes went.
    const goneAt = Date.parse(revive.json.error.gone.at);
    expect(goneAt).toBeGreaterThanOrEqual(Date.parse(soon));
    expect(goneAt).toBeLessThanOrEqual(Date.now());
  });

  it('never revives a used-up or deleted file, and says how it ended', async () => {
    const usedUp = await upload('downloads=1');
    expect(await download(b(), usedUp.id)).toBe(200);
    const more = await edit(a(), usedUp.id, usedUp.deleteToken, { downloads: 10 });
    expect(more.status).toBe(410);
    expect(more.json.error.code).toBe('DOWNLOADS_EXHAUSTED');
    const info = await call(`${b()}/v1/files/${usedUp.id}`);
    expect(info.status).toBe(410);
    expect(info.json.error.gone.state).toBe('used-up');
    expect(Date.parse(info.json.error.gone.at)).toBeGreaterThan(Date.now());
    expect(await download(a(), usedUp.id)).toBe(410);

    const deleted = await upload('downloads=3');
    const removed = await call(`${b()}/v1/files/${deleted.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${deleted.deleteToken}` },
    });
    expect(removed.status).toBe(204);
    const edited = await edit(a(), deleted.id, deleted.deleteToken, { downloads: 10 });
    expect(edited.status).toBe(410);
    expect(edited.json.error).toMatchObject({ code: 'DELETED', gone: { state: 'deleted' } });
  });

  it('refuses edits out of bounds, unclear ones and wrong tokens, changing nothing', async () => {
    const file = await upload('downloads=3&ttl=1h');
    const refusals: [unknown, number, string][] = [
      [{ downloads: 51 }, 400, 'INVALID_OPTION'],
      [{ downloads: 0 }, 400, 'INVALID_OPTION'],
      [{ ttl: '2d' }, 400, 'INVALID_OPTION'],
      [{ ttl: '1h', expiresAt: new Date(Date.now() + HOUR).toISOString() }, 400, 'INVALID_OPTION'],
      [{ expiresAt: new Date(Date.now() - 1000).toISOString() }, 400, 'INVALID_OPTION'],
      [{ expiresAt: 'tomorrow' }, 400, 'INVALID_OPTION'],
      [{ ttl: 'soon' }, 400, 'INVALID_OPTION'],
      [{}, 400, 'INVALID_OPTION'],
      [{ downlods: 4 }, 400, 'BAD_REQUEST'],
    ];
    for (const [body, status, code] of refusals) {
      const reply = await edit(a(), file.id, file.deleteToken, body);
      expect([JSON.stringify(body), reply.status, reply.json.error.code]).toEqual([JSON.stringify(body), status, code]);
    }
    // A day from the upload is the longest life, whatever the edits.
    const lastInstant = Date.parse(file.json.createdAt) + 24 * HOUR;
    expect((await edit(a(), file.id, file.deleteToken, { ttl: '23h' })).status).toBe(200);
    const past = await edit(a(), file.id, file.deleteToken, { expiresAt: new Date(lastInstant + 1000).toISOString() });
    expect(past.json.error.message).toMatch(/at most 1d from its upload/);

    const wrong = await edit(b(), file.id, 'not-the-token', { downloads: 4 });
    expect([wrong.status, wrong.json.error.code]).toEqual([403, 'FORBIDDEN']);
    const none = await edit(b(), file.id, undefined, { downloads: 4 });
    expect([none.status, none.json.error.code]).toEqual([401, 'UNAUTHORIZED']);
    expect((await call(`${b()}/v1/files/${file.id}`)).json).toMatchObject({ maxDownloads: 3, downloadsLeft: 3 });
  });

  it("holds an edit to the uploader key's quotas", async () => {
    const key = await createKey({
      name: 'capped',
      scopes: ['upload'],
      quotas: { maxDownloads: 5, maxTtlSeconds: 7200 },
    });
    const file = await upload('downloads=2&ttl=1h', key.secret);
    const downloads = await edit(a(), file.id, file.deleteToken, { downloads: 6 });
    expect([downloads.status, downloads.json.error.code]).toEqual([403, 'QUOTA_DOWNLOADS_EXCEEDED']);
    const ttl = await edit(a(), file.id, file.deleteToken, { ttl: '3h' });
    expect([ttl.status, ttl.json.error.code]).toEqual([403, 'QUOTA_TTL_EXCEEDED']);
    expect((await edit(a(), file.id, file.deleteToken, { downloads: 5, ttl: 3600 })).status).toBe(200);
  });

  it('lists live files page by page with filters; a read key lists only its own', async () => {
    const reader = await createKey({ name: 'lister', scopes: ['upload', 'read'] });
    const uploaderOnly = await createKey({ name: 'uploader', scopes: ['upload'] });
    const mine = [];
    for (let i = 0; i < 5; i++) mine.push((await upload(`ttl=${i + 1}h`, reader.secret)).id);
    await upload('ttl=1h');

    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const query: string = cursor === '' ? '' : `&cursor=${cursor}`;
      const page = await call(`${b()}/v1/files?limit=2&key=${reader.id}${query}`, { headers: admin });
      expect(page.status).toBe(200);
      expect(page.json.files.length).toBeLessThanOrEqual(2);
      for (const listed of page.json.files) expect(listed.key).toBe(reader.id);
      seen.push(...page.json.files.map((listed: { id: string }) => listed.id));
      cursor = page.json.next;
      pages++;
    }
    expect(pages).toBeGreaterThan(2);
    expect(seen).toEqual([...mine].sort());

    const own = await call(`${a()}/v1/files?limit=1000`, { headers: { authorization: `Bearer ${reader.secret}` } });
    expect(own.json.files.map((listed: { id: string }) => listed.id)).toEqual([...mine].sort());
    const soon = new Date(Date.now() + 2.5 * HOUR).toISOString();
    const expiring = await call(`${a()}/v1/files?expiringBefore=${soon}&status=processing`, {
      headers: { authorization: `Bearer ${reader.secret}` },
    });
    expect(expiring.json.files).toHaveLength(2);
    const ready = await call(`${a()}/v1/files?status=ready`, { headers: admin });
    expect(ready.json).toEqual({ files: [], next: null });

    const refusals: [string, Record<string, string>, number, string][] = [
      ['', {}, 401, 'UNAUTHORIZED'],
      ['', { authorization: `Bearer ${uploaderOnly.secret}` }, 403, 'MISSING_SCOPE'],
      [`?key=${uploaderOnly.id}`, { authorization: `Bearer ${reader.secret}` }, 403, 'FORBIDDEN'],
      ['?limit=1001', admin, 400, 'INVALID_OPTION'],
      ['?status=gone', admin, 400, 'INVALID_OPTION'],
      ['?expiringBefore=later', admin, 400, 'INVALID_OPTION'],
      ['?sort=name', admin, 400, 'BAD_REQUEST'],
    ];
    for (const [query, headers, status, code] of refusals) {
      const reply = await call(`${a()}/v1/files${query}`, { headers });
      expect([query, reply.status, reply.json.error.code]).toEqual([query, status, code]);
    }
  });

  it('gives a ShareX uploader that uploads as ShareX would, with the key sent and never the admin key', async () => {
    const open = await call(`${a()}/v1/sharex`);
    expect(open.status).toBe(200);
    expect(open.headers.get('content-disposition')).toBe('attachment; filename="legim.sxcu"');
    expect(open.json).toMatchObject({
      DestinationType: 'ImageUploader, FileUploader',
      RequestMethod: 'POST',
      RequestURL: `${a()}/v1/files`,
      Body: 'MultipartFormData',
      FileFormName: 'file',
      URL: '{json:url}',
      DeletionURL: `${a()}/v1/files/{json:id}?token={json:deleteToken}`,
    });
    expect(open.json.Headers).toBeUndefined();

    const key = await createKey({ name: 'sharex', scopes: ['upload'] });
    const withKey = await call(`${a()}/v1/sharex`, { headers: { authorization: `Bearer ${key.secret}` } });
    expect(withKey.json.Headers).toEqual({ Authorization: `Bearer ${key.secret}` });
    const refused = await call(`${a()}/v1/sharex`, { headers: admin });
    expect([refused.status, refused.json.error.code]).toEqual([403, 'FORBIDDEN']);

    // What ShareX does with it: a multipart POST, then the link and the deletion URL from the JSON answer.
    const uploader = withKey.json;
    const form = new FormData();
    form.append(uploader.FileFormName, new Blob([IMAGE], { type: 'image/gif' }), 'shot.gif');
    const sent = await call(uploader.RequestURL, {
      method: uploader.RequestMethod,
      headers: uploader.Headers,
      body: form,
    });
    expect(sent.status).toBe(201);
    const fill = (template: string) => template.replace(/\{json:(\w+)\}/g, (_, field: string) => sent.json[field]);
    expect(fill(uploader.URL)).toBe(`${a()}/d/${sent.json.id}`);
    expect((await call(fill(uploader.DeletionURL), { method: 'DELETE' })).status).toBe(204);
  });
});
