import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The index engines every contract suite and gateway matrix runs against. */
export type EngineKind = 'sqlite' | 'postgres';
export const ENGINES: EngineKind[] = ['sqlite', 'postgres'];

/** The shared test PostgreSQL (`npm test` starts one where missing); tests never stop it. */
export const TEST_POSTGRES_URL = process.env.LEGIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  kind: EngineKind;
  /** What `--database` / `LEGIM_DATABASE_URL` takes. */
  value: string;
  /** Removes the database: the SQLite folder, or the PostgreSQL schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * A fresh, empty index for one test: a SQLite file in a temp folder of its
 * own, or a schema of its own in the test PostgreSQL database, so tests
 * running at once never see each other's rows.
 */
export function freshDatabase(kind: EngineKind): TestDatabase {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'legim-index-'));
    return {
      kind,
      value: `sqlite:${join(dir, 'metadata.db')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(TEST_POSTGRES_URL);
  url.searchParams.set('schema', schema);
  return { kind, value: url.toString(), drop: () => dropSchema(schema) };
}

async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}
