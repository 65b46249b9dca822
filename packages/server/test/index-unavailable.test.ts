import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LegimError } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/free-port.js';
import { startPrivatePostgres, type PrivatePostgres } from '../../../test-support/private-postgres.js';
import { parseDatabase } from '../src/backends/database-config.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import { fileRecord } from './index-contract/fixtures.js';

const dataDir = mkdtempSync(join(tmpdir(), 'legim-unavailable-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const unavailable = { name: 'LegimError', code: 'INDEX_UNAVAILABLE', statusCode: 503 };

/** What every request does first: read the index. Each must fail closed, with the one typed error. */
function indexOperations(engine: IndexEngine): Record<string, () => Promise<unknown>> {
  const id = randomUUID();
  return {
    getFile: () => engine.metadata.getFile(id),
    insertFile: () => engine.metadata.insertFile(fileRecord({ id }), { durable: ['n1'], pending: [] }, Date.now()),
    take: () => engine.counter.take(id, Date.now(), 1000),
    lease: () => engine.leases.tryAcquire(`file:${id}`, 1000),
    totals: () => engine.totals.read(Date.now()),
  };
}

describe('PostgreSQL index that cannot be reached', () => {
  it('refuses to open, with INDEX_UNAVAILABLE (503), when nothing listens on its port', async () => {
    const port = await freePort();
    const opening = openIndexEngine(parseDatabase(`postgres://postgres@127.0.0.1:${port}/test`, dataDir));
    const error = await opening.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(LegimError.is(error)).toBe(true);
    expect(error).toMatchObject(unavailable);
  });

  describe('going away and coming back', () => {
    let server: PrivatePostgres;
    let engine: IndexEngine;
    beforeAll(async () => {
      server = await startPrivatePostgres();
      engine = await openIndexEngine(parseDatabase(server.url, dataDir));
    }, 120_000);
    afterAll(async () => {
      await engine?.close();
      await server?.close();
    });

    it('answers while up, fails closed while down, and recovers by itself once back', async () => {
      const file = fileRecord();
      await engine.metadata.insertFile(file, { durable: ['n1'], pending: [] }, Date.now());
      expect(engine.reachable()).toBe(true);

      await server.stop();
      for (const [name, operation] of Object.entries(indexOperations(engine))) {
        await expect(operation(), name).rejects.toMatchObject(unavailable);
      }
      expect(engine.reachable()).toBe(false);

      await server.start();
      // The first use after the restart may still meet a connection the server closed; the pool then reconnects.
      await expect
        .poll(() => engine.metadata.getFile(file.id).catch(() => undefined), { timeout: 10_000 })
        .toEqual(file);
      expect(engine.reachable()).toBe(true);
      expect(await engine.counter.take(file.id, Date.now(), 1000)).toEqual({ ok: true, downloadsLeft: 4 });
      const lease = await engine.leases.tryAcquire(`file:${file.id}`, 1000);
      expect(lease).toBeDefined();
      await lease!.release();
    });

    it('waits at open, when asked to, for a server that comes up meanwhile', async () => {
      await server.stop();
      const waits: number[] = [];
      const opening = openIndexEngine(parseDatabase(`${server.url}?schema=t_wait_${Date.now()}`, dataDir), {
        waitMs: 60_000,
        onWait: (error, retryInMs) => {
          expect(error).toMatchObject(unavailable);
          waits.push(retryInMs);
        },
      });
      await expect.poll(() => waits.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      await server.start();
      const waited = await opening;
      try {
        expect(await waited.metadata.getFile(randomUUID())).toBeUndefined();
        // The delays grow: no tight loop against a server that is down.
        expect(waits[1]!).toBeGreaterThan(waits[0]!);
      } finally {
        await waited.close();
      }
    });
  });
});
