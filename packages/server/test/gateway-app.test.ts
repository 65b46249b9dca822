import { Readable } from 'node:stream';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGatewayApp, type EdgeRequest } from '../src/index.js';
import { route } from '../src/http/route.js';
import { bearerGuard } from '../src/http/auth.js';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { call } from './support.js';

const ADMIN = 'admin-key-for-the-app-test-0123456789';

/** A request as the listener would build it, without a socket. */
function edgeRequest(method: string, url: string, options: { headers?: Record<string, string>; body?: string } = {}) {
  const request: EdgeRequest = {
    method,
    url,
    headers: options.headers ?? {},
    body: Readable.from(options.body === undefined ? [] : [Buffer.from(options.body)]),
    signal: new AbortController().signal,
    id: 'test',
    address: '127.0.0.1',
  };
  return request;
}

/**
 * The edge's own rules (routing, credentials, input checks, the error map,
 * the answer checks), driven without a socket through the app factory with
 * routes declared the way the gateway declares its own.
 */
describe('the gateway app, without a socket', () => {
  const internalErrors: unknown[] = [];
  const app = createGatewayApp({
    authorizeAdmin: async (request) => bearerGuard(ADMIN, 'admin key')(request),
    clusterSecret: 'cluster-secret-for-the-app-test-0123',
    checkAnswers: true,
    onInternalError: (_request, error) => internalErrors.push(error),
    routes: [
      route({
        id: 'echo',
        method: 'POST',
        path: '/echo/:name',
        summary: 'echo',
        tag: 'operations',
        auth: 'admin',
        params: Type.Object({ name: Type.String() }),
        query: Type.Object(
          { times: Type.Optional(Type.String({ pattern: '^[0-9]+$' })) },
          { additionalProperties: false },
        ),
        body: { json: Type.Object({ word: Type.String() }, { additionalProperties: false }), limit: 100 },
        responses: { 200: { description: 'echo', json: Type.Object({ said: Type.String() }) } },
      }).handle(async ({ params, query, body }) => ({
        status: 200,
        json: { said: `${params.name}: ${body.word.repeat(Number(query.times ?? 1))}` },
      })),
      route({
        id: 'broken',
        method: 'GET',
        path: '/broken',
        summary: 'fails',
        tag: 'operations',
        auth: 'public',
        responses: { 200: { description: 'never', json: Type.Object({}) } },
      }).handle(async () => {
        throw new Error('the disk caught fire');
      }),
      route({
        id: 'offSchema',
        method: 'GET',
        path: '/off-schema',
        summary: 'answers off its schema',
        tag: 'operations',
        auth: 'public',
        responses: { 200: { description: 'a count', json: Type.Object({ count: Type.Integer({ minimum: 0 }) }) } },
      }).handle(async () => ({ status: 200, json: { count: -1 } })),
    ],
  });
  const admin = { authorization: `Bearer ${ADMIN}` };

  it('routes, checks the admin key, the path, the query and the JSON body, then answers', async () => {
    const ok = await app.handle(edgeRequest('POST', '/echo/bob?times=2', { headers: admin, body: '{"word":"hi"}' }));
    expect(ok).toEqual({ reply: { status: 200, json: { said: 'bob: hihi' } }, route: '/echo/:name' });

    const cases: [EdgeRequest, number, string][] = [
      [edgeRequest('POST', '/echo/bob', { body: '{"word":"hi"}' }), 401, 'UNAUTHORIZED'],
      [edgeRequest('POST', '/echo/bob?times=x', { headers: admin, body: '{"word":"hi"}' }), 400, 'BAD_REQUEST'],
      [edgeRequest('POST', '/echo/bob?time=2', { headers: admin, body: '{"word":"hi"}' }), 400, 'BAD_REQUEST'],
      [edgeRequest('POST', '/echo/bob?times=1&times=2', { headers: admin, body: '{"word":"hi"}' }), 400, 'BAD_REQUEST'],
      [edgeRequest('POST', '/echo/bob', { headers: admin, body: '{"word":3}' }), 400, 'BAD_REQUEST'],
      [edgeRequest('POST', '/echo/bob', { headers: admin, body: 'not json' }), 400, 'BAD_REQUEST'],
      [
        edgeRequest('POST', '/echo/bob', { headers: admin, body: `{"word":"${'a'.repeat(200)}"}` }),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      [edgeRequest('GET', '/echo/bob'), 405, 'METHOD_NOT_ALLOWED'],
      [edgeRequest('GET', '/nowhere'), 404, 'NOT_FOUND'],
    ];
    for (const [request, status, code] of cases) {
      const { reply } = await app.handle(request);
      expect({
        url: request.url,
        status: reply.status,
        code: (reply.json as { error: { code: string } }).error.code,
      }).toEqual({ url: request.url, status, code });
    }
    const wrongMethod = await app.handle(edgeRequest('GET', '/echo/bob'));
    expect(wrongMethod.reply.headers).toEqual({ Allow: 'POST' });
    expect(internalErrors).toEqual([]);
  });

  it("answers an internal failure with the gateway's own code and message, and reports it", async () => {
    const { reply } = await app.handle(edgeRequest('GET', '/broken'));
    expect(reply.status).toBe(500);
    expect(reply.json).toEqual({
      error: { code: 'INTERNAL', message: 'internal error in the gateway; its log has the details' },
    });
    expect(internalErrors).toEqual([expect.objectContaining({ message: 'the disk caught fire' })]);
  });

  it('refuses to send an answer its declaration does not allow', async () => {
    internalErrors.length = 0;
    const { reply } = await app.handle(edgeRequest('GET', '/off-schema'));
    expect(reply.status).toBe(500);
    expect(String(internalErrors[0])).toContain('off its schema at "/count"');
  });
});

describe('a real gateway that fails internally', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, engine: 'sqlite' });
  });
  afterAll(() => cluster?.close());

  it("answers 500 with the gateway's own code and message, never the storage node's", async () => {
    // The index loses a table under the running gateway: a failure no request could cause.
    const index = new Database(join(cluster.gateway.dataDir, 'metadata.db'));
    index.exec('DROP TABLE files');
    index.close();
    const reply = await call(`${cluster.gateway.url}/v1/files/5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21`);
    expect(reply.status).toBe(500);
    expect(reply.json.error.code).toBe('INTERNAL');
    expect(reply.json.error.message).toContain('gateway');
    expect(reply.json.error.message).not.toContain('storage node');
    expect(reply.headers.get('legim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
