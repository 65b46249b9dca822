import { join } from 'node:path';
import { LegimError } from '@legim/sdk';

/** Where the index lives: a SQLite file on this host, or a PostgreSQL database any host can reach. */
export type DatabaseConfig =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      /** The connection URL, without Legim's own `schema` parameter. */
      url: string;
      /** Tables go to this schema (created if missing) instead of `public`: several deployments or tests in one database. */
      schema: string | undefined;
    };

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads `--database` / `LEGIM_DATABASE_URL`: absent or `sqlite` for the
 * embedded file in the data directory, `sqlite:<path>` for another file, or
 * `postgres://user:password@host:port/database[?schema=name]`.
 */
export function parseDatabase(value: string | undefined, dataDir: string): DatabaseConfig {
  if (value === undefined || value === '' || value === 'sqlite') {
    return { kind: 'sqlite', path: join(dataDir, 'metadata.db') };
  }
  if (value.startsWith('sqlite:')) return { kind: 'sqlite', path: value.slice('sqlite:'.length) };
  if (/^postgres(ql)?:\/\//.test(value)) return parsePostgres(value);
  throw new LegimError(
    'INVALID_OPTION',
    `--database "${redact(value)}" names no engine Legim knows: use sqlite (the default), sqlite:<file> or postgres://user@host:5432/database`,
  );
}

function parsePostgres(value: string): DatabaseConfig {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new LegimError('INVALID_OPTION', `--database "${redact(value)}" is not a valid postgres:// URL`);
  }
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new LegimError(
      'INVALID_OPTION',
      `--database schema "${schema}" must be lower-case letters, digits and "_", starting with a letter or "_"`,
    );
  }
  url.searchParams.delete('schema');
  return { kind: 'postgres', url: url.toString(), schema };
}

/** A URL as it may be printed: without its password. */
export function redact(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
