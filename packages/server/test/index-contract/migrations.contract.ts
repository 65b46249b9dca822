import { describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/backends/database-config.js';
import { openIndexEngine } from '../../src/backends/open-backends.js';
import { fileRecord } from './fixtures.js';
import type { EngineHarness } from './harness.js';

/** Opening a database brings its schema up to date exactly once, however many processes start together. */
export function migrationsContract(harness: EngineHarness): void {
  describe('migrations', () => {
    it('lets four engines open one new database at once, each migrating it or finding it done', async () => {
      // A database of its own that nothing opened yet: the harness's engine has migrated its own already.
      const config = harness.config();
      const fresh =
        config.kind === 'sqlite'
          ? { ...config, path: config.path.replace(/\.db$/, '-fresh.db') }
          : { ...config, schema: `${config.schema}_fresh` };
      const opened = await Promise.allSettled(Array.from({ length: 4 }, () => openIndexEngine(fresh)));
      const engines = opened.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      try {
        for (const result of opened) if (result.status === 'rejected') throw result.reason;
        const file = fileRecord();
        await engines[0]!.metadata.insertFile(file, { durable: ['n1'], pending: [] }, Date.now());
        for (const engine of engines) {
          expect(await engine.metadata.getFile(file.id)).toEqual(file);
          // The totals row and its triggers exist once: a second migration would have added or doubled them.
          expect((await engine.totals.read(Date.now())).files.live).toBe(1);
        }
        // Reopened, nothing is left to migrate.
        const again = await openIndexEngine(fresh);
        expect(await again.metadata.countFiles()).toBe(1);
        await again.close();
      } finally {
        await Promise.all(engines.map((engine) => engine.close()));
        await dropFresh(fresh);
      }
    });
  });
}

async function dropFresh(config: DatabaseConfig): Promise<void> {
  if (config.kind === 'sqlite') return; // in the harness's temp folder, removed with it
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: config.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${config.schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
