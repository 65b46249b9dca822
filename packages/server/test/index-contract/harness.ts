import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { freshDatabase, type EngineKind, type TestDatabase } from '../../../../test-support/test-database.js';
import { parseDatabase, type DatabaseConfig } from '../../src/backends/database-config.js';
import type { IndexEngine } from '../../src/backends/index-engine.js';
import { openIndexEngine } from '../../src/backends/open-backends.js';

/** What each contract suite gets: an engine on a fresh, empty database per test. */
export interface EngineHarness {
  readonly kind: EngineKind;
  /** This test's engine. */
  engine(): IndexEngine;
  /** This test's database, as the configuration names it. */
  config(): DatabaseConfig;
  /** Another engine on this test's database, with connections of its own, as another process would open it. */
  another(): Promise<IndexEngine>;
}

/** Registers, in the calling `describe`, a fresh database and engine for every test, closed and dropped after it. */
export function useEngine(kind: EngineKind): EngineHarness {
  let database: TestDatabase;
  let config: DatabaseConfig;
  let dataDir: string;
  let engines: IndexEngine[] = [];
  beforeEach(async () => {
    database = freshDatabase(kind);
    dataDir = mkdtempSync(join(tmpdir(), 'legim-engine-'));
    config = parseDatabase(database.value, dataDir);
    engines = [await openIndexEngine(config)];
  });
  afterEach(async () => {
    for (const engine of engines) await engine.close();
    await database.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    kind,
    engine: () => engines[0]!,
    config: () => config,
    async another() {
      const engine = await openIndexEngine(config);
      engines.push(engine);
      return engine;
    },
  };
}
