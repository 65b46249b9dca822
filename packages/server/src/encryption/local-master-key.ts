import { linkSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { LegimError } from '@legim/sdk';
import type { DatabaseConfig } from '../backends/database-config.js';
import { MasterKeys } from './master-keys.js';

/** The master key file a one-host gateway keeps beside its index. */
export const LOCAL_MASTER_KEY_FILE = 'master.key';

/**
 * The master keys a gateway uses: those configured; else `<data>/master.key`
 * if it exists (files encrypted before stay readable with `--encrypt` off);
 * else, with `--encrypt` on a SQLite index (one host, so one key for every
 * gateway sharing the directory), a new one generated there (mode 0600).
 * With PostgreSQL each host has its own data directory, so the key must be
 * given: a generated one would differ on every host. Undefined: no encryption.
 */
export function resolveMasterKeys(config: {
  encrypt: boolean;
  masterKeys: MasterKeys | undefined;
  dataDir: string;
  database: DatabaseConfig;
}): MasterKeys | undefined {
  if (config.masterKeys) return config.masterKeys;
  const path = join(config.dataDir, LOCAL_MASTER_KEY_FILE);
  const stored = readKeys(path);
  if (stored || !config.encrypt) return stored;
  if (config.database.kind !== 'sqlite') {
    throw new LegimError(
      'INVALID_OPTION',
      '--encrypt with a PostgreSQL index needs the master key every gateway and worker shares: ' +
        'give it with --master-key-file or LEGIM_MASTER_KEY (`openssl rand -base64 32`)',
    );
  }
  return createKeys(path);
}

function readKeys(path: string): MasterKeys | undefined {
  try {
    return MasterKeys.parse(readFileSync(path, 'utf8'), path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** Written whole, then linked into place: of gateways starting together on one directory, exactly one key wins. */
function createKeys(path: string): MasterKeys {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temporary, `${MasterKeys.generateLine()}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temporary, { force: true });
  }
  return readKeys(path)!;
}
