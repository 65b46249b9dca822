import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes } from '../../../test-support/fixtures.js';
import { admin, call, uploadBytes, waitFor, type Reply } from './support.js';

type Document = { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };

/**
 * The served API document is a valid OpenAPI 3.1 document, the committed
 * docs/openapi.json is the same, and real answers of the running gateway,
 * for every public and admin route, match it (checked here with another
 * validator than the one the gateway uses on itself).
 */
describe('GET /v1/openapi.json', () => {
  let cluster: TestCluster;
  let document: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addFormat('binary', true);

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 3 });
    const reply = await call(`${cluster.gateway.url}/v1/openapi.json`);
    expect(reply.status).toBe(200);
    document = reply.json as Document;
    ajv.addSchema(document as object, 'api');
  });
  afterAll(() => cluster?.close());

  /** Checks an answer against the document: its status is declared, and a JSON body matches its schema. */
  function expectDocumented(path: string, method: string, reply: Reply): void {
    const operation = document.paths[path]?.[method];
    expect(operation, `${method} ${path} in the document`).toBeDefined();
    const status = String(reply.status);
    expect(Object.keys(operation!.responses), `${method} ${path} declares ${status}`).toContain(status);
    const type = reply.headers.get('content-type') ?? '';
    if (!type.startsWith('application/json')) return;
    const pointer = `api#/paths/${path.replaceAll('/', '~1')}/${method}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.compile({ $ref: pointer });
    expect(validate(reply.json), `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }

  it('is a valid OpenAPI 3.1 document, and docs/openapi.json is the same', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as Record<string, unknown>);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const committed = JSON.parse(readFileSync(new URL('../../../docs/openapi.json', import.meta.url), 'utf8'));
    expect(committed, 'docs/openapi.json is stale: run npm run openapi').toEqual(document);
  });

  it('covers every public and admin route, with their auth', () => {
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method, ...(op as { security?: unknown[] }) })),
    );
    const names = operations.map((op) => `${op.method.toUpperCase()} ${op.path}`);
    for (const expected of [
      'GET /',
      'POST /v1/files',
      'GET /v1/files/{id}',
      'DELETE /v1/files/{id}',
      'GET /v1/files/{id}/variants/{name}',
      'GET /d/{id}',
      'HEAD /d/{id}',
      'GET /v1/health',
      'GET /livez',
      'GET /readyz',
      'POST /v1/keys',
      'GET /v1/keys',
      'DELETE /v1/keys/{id}',
      'GET /v1/cluster',
      'POST /v1/cluster/nodes/{id}/drain',
      'GET /v1/stats',
      'GET /v1/events',
      'GET /metrics',
      'GET /v1/index/rebuild',
      'POST /v1/index/rebuild',
      'GET /v1/openapi.json',
    ]) {
      expect(names).toContain(expected);
    }
    const stats = operations.find((op) => op.path === '/v1/stats');
    expect(stats?.security).toEqual([{ adminKey: [] }, { apiKey: [] }]);
    const upload = operations.find((op) => op.path === '/v1/files' && op.method === 'post');
    expect(upload?.security).toEqual([{ apiKey: [] }, {}]);
  });

  it("matches the gateway's real answers, successes and errors", async () => {
    const { url } = cluster.gateway;
    const upload = await uploadBytes(url, fixtureBytes('photo-small-flower-1600x1203.jpg'), {
      downloads: 2,
      ttl: '1h',
    });
    expectDocumented('/v1/files', 'post', upload);
    const id = upload.json.id as string;
    const token = upload.json.deleteToken as string;

    await waitFor(async () => (await call(`${url}/v1/files/${id}`)).json.status !== 'processing', 'processing');
    expectDocumented('/v1/files/{id}', 'get', await call(`${url}/v1/files/${id}`));
    expectDocumented('/v1/files/{id}/variants/{name}', 'get', await call(`${url}/v1/files/${id}/variants/thumb`));
    expectDocumented('/v1/files/{id}/variants/{name}', 'get', await call(`${url}/v1/files/${id}/variants/nope`));
    expectDocumented('/d/{id}', 'head', await call(`${url}/d/${id}`, { method: 'HEAD' }));
    expectDocumented('/d/{id}', 'get', await call(`${url}/d/${id}`));
    expectDocumented('/v1/files/{id}', 'delete', await call(`${url}/v1/files/${id}`, { method: 'DELETE' }));
    expectDocumented(
      '/v1/files/{id}',
      'delete',
      await call(`${url}/v1/files/${id}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }),
    );
    expectDocumented('/d/{id}', 'get', await call(`${url}/d/${id}`));
    expectDocumented('/v1/files', 'post', await uploadBytes(url, Buffer.from('not an image')));
    expectDocumented(
      '/v1/files',
      'post',
      await uploadBytes(url, fixtureBytes('photo-small-flower-1600x1203.jpg'), { downloads: 'x' }),
    );
    expectDocumented(
      '/v1/files',
      'post',
      await uploadBytes(url, fixtureBytes('photo-small-flower-1600x1203.jpg'), { colour: 'red' }),
    );

    expectDocumented('/', 'get', await call(`${url}/`));
    for (const path of ['/livez', '/readyz']) expectDocumented(path, 'get', await call(`${url}${path}`));
    const key = await call(`${url}/v1/keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'openapi', scopes: ['upload'], quotas: { maxFiles: 5 } }),
    });
    expectDocumented('/v1/keys', 'post', key);
    expectDocumented(
      '/v1/keys/{id}',
      'delete',
      await call(`${url}/v1/keys/${key.json.id}`, { method: 'DELETE', headers: admin }),
    );
    expectDocumented(
      '/v1/keys/{id}',
      'delete',
      await call(`${url}/v1/keys/nope`, { method: 'DELETE', headers: admin }),
    );
    for (const path of ['/v1/health', '/v1/cluster', '/v1/stats', '/metrics', '/v1/index/rebuild', '/v1/keys']) {
      expectDocumented(path, 'get', await call(`${url}${path}`));
      expectDocumented(path, 'get', await call(`${url}${path}`, { headers: admin }));
    }
    const drain = await call(`${url}/v1/cluster/nodes/no-such-node/drain`, { method: 'POST', headers: admin });
    expectDocumented('/v1/cluster/nodes/{id}/drain', 'post', drain);
    expectDocumented('/v1/openapi.json', 'get', await call(`${url}/v1/openapi.json`));
  });

  it('refuses an unknown query parameter instead of ignoring it', async () => {
    const reply = await uploadBytes(cluster.gateway.url, fixtureBytes('photo-small-flower-1600x1203.jpg'), {
      downlaods: 1,
    });
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe('BAD_REQUEST');
    expect(reply.json.error.message).toContain('downlaods');
  });
});
