import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { sha256 } from '../../../test-support/fixtures.js';
import { AUTH, capturingLogger, startTestNode, waitFor, type LogLine } from './support.js';

const KEY = '9d1c2b3a-0000-4000-8000-0000000000aa';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** pino's numbers for the levels. */
const DEBUG = 20;
const INFO = 30;
const ERROR = 50;

function linesOf(lines: LogLine[], reqId: string): LogLine[] {
  return lines.filter((line) => line.reqId === reqId);
}

describe('request ids on the storage node', () => {
  it('answers every request with a Legim-Request-Id, errors included', async () => {
    const node = await startTestNode();
    const ok = await request(`${node.url}/stats`, { headers: AUTH });
    const unauthorized = await request(`${node.url}/stats`);
    const missing = await request(`${node.url}/no-such-endpoint`, { headers: AUTH });
    for (const answer of [ok, unauthorized, missing]) await answer.body.dump();

    expect([ok.statusCode, unauthorized.statusCode, missing.statusCode]).toEqual([200, 401, 404]);
    const ids = [ok, unauthorized, missing].map((answer) => answer.headers['legim-request-id']);
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(3);
  });

  it("keeps a caller's safe id and replaces an unsafe one", async () => {
    const node = await startTestNode();
    const ask = async (id: string) => {
      const answer = await request(`${node.url}/health`, { headers: { ...AUTH, 'legim-request-id': id } });
      await answer.body.dump();
      return answer.headers['legim-request-id'];
    };
    expect(await ask('gw-1.upload_42')).toBe('gw-1.upload_42');
    expect(await ask('x'.repeat(65))).toMatch(UUID);
    expect(await ask('a b')).toMatch(UUID);
    expect(await ask('{"inject":1}')).toMatch(UUID);
  });

  it('logs each request at debug with its id, status and duration, and a refusal at info', async () => {
    const { logger, lines } = capturingLogger();
    const node = await startTestNode({}, logger);
    const ok = await request(`${node.url}/stats`, { headers: { ...AUTH, 'legim-request-id': 'ok-1' } });
    const refused = await request(`${node.url}/stats`, { headers: { 'legim-request-id': 'refused-1' } });
    await Promise.all([ok.body.dump(), refused.body.dump()]);
    await waitFor(() => linesOf(lines, 'refused-1').some((line) => line.msg === 'request done'));

    expect(linesOf(lines, 'ok-1')).toEqual([
      expect.objectContaining({
        level: DEBUG,
        name: 'node-test',
        method: 'GET',
        url: '/stats',
        status: 200,
        durationMs: expect.any(Number) as number,
        msg: 'request done',
      }),
    ]);
    expect(linesOf(lines, 'refused-1')).toEqual([
      expect.objectContaining({ level: INFO, status: 401, code: 'UNAUTHORIZED' }),
      expect.objectContaining({ level: DEBUG, status: 401, msg: 'request done' }),
    ]);
  });

  it('logs a failure inside the node at error, with the error, under the request id', async () => {
    const { logger, lines } = capturingLogger();
    const node = await startTestNode({}, logger);
    // The write folder gone from under the node: a fault of the node, not of the request.
    await rm(join(node.dataDir, 'tmp'), { recursive: true, force: true });
    const body = Buffer.from('some bytes');
    const put = await request(`${node.url}/blobs/${KEY}`, {
      method: 'PUT',
      headers: {
        ...AUTH,
        'legim-request-id': 'put-1',
        'legim-sha256': sha256(body),
        'content-type': 'application/octet-stream',
      },
      body,
    });
    expect(put.statusCode).toBe(500);
    expect(put.headers['legim-request-id']).toBe('put-1');
    expect(await put.body.json()).toMatchObject({ error: { code: 'INTERNAL' } });

    const failures = linesOf(lines, 'put-1').filter((line) => line.level === ERROR);
    expect(failures).toEqual([
      expect.objectContaining({
        method: 'PUT',
        url: `/blobs/${KEY}`,
        status: 500,
        err: expect.objectContaining({ message: expect.stringContaining('ENOENT') as string }) as object,
      }),
    ]);
  });
});
