import { setTimeout as delay } from 'node:timers/promises';
import { LegimError } from '@legim/sdk';
import pg from 'pg';
import { migrate } from './migrations.js';
import type { Queryable } from './queryable.js';

export interface PostgresOptions {
  url: string;
  schema: string | undefined;
  /** Connections per process. Default 10: a gateway's requests are short, and PostgreSQL's own limit is shared by every gateway and worker. */
  maxConnections?: number;
  /** A statement running longer than this is cancelled, so a stuck query cannot hold a request forever. Default 10 s. */
  statementTimeoutMs?: number;
  /** How long `open` keeps trying while the server cannot be reached (a database that starts with the gateway, or is briefly down). Default 0. */
  waitMs?: number;
  /** Hears each failed attempt before the next, with the delay before it. */
  onWait?: (error: LegimError, retryInMs: number) => void;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5000;

const INT8_OID: number = pg.types.builtins.INT8;

/** BIGINT columns hold epoch milliseconds and counts, all well inside a JavaScript number: read them as numbers, not strings. */
const TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? Number : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
};

/** SQLSTATE classes and codes that mean "the server is not there right now", not "the statement is wrong". */
const UNREACHABLE_STATES = /^(08|57P0[1-3]|53300)/;
const UNREACHABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH']);

/**
 * The connection pool of the PostgreSQL engine. Every query goes through
 * here, so that a database that cannot be reached is one typed error
 * (`INDEX_UNAVAILABLE`, 503) everywhere: requests fail closed and the pool
 * reconnects by itself when the server is back.
 */
export class PostgresDatabase implements Queryable {
  private lastUseFailed = false;

  private constructor(private readonly pool: pg.Pool) {}

  /**
   * Connects, creates the schema if asked for one, and runs the migrations
   * (once, under a lock). A server that cannot be reached is tried again
   * with growing delays for `waitMs`; any other error fails at once.
   */
  static async open(options: PostgresOptions): Promise<PostgresDatabase> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (let retryInMs = FIRST_RETRY_MS; ; retryInMs = Math.min(retryInMs * 2, MAX_RETRY_MS)) {
      try {
        return await PostgresDatabase.openOnce(options);
      } catch (error) {
        const left = deadline - Date.now();
        if (!LegimError.is(error) || error.code !== 'INDEX_UNAVAILABLE' || left <= 0) throw error;
        options.onWait?.(error, Math.min(retryInMs, left));
        await delay(Math.min(retryInMs, left));
      }
    }
  }

  private static async openOnce(options: PostgresOptions): Promise<PostgresDatabase> {
    const searchPath = options.schema ? `-c search_path=${options.schema}` : undefined;
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: options.statementTimeoutMs ?? 10_000,
      // The application name shows in pg_stat_activity, so an operator can tell Legim's connections apart.
      application_name: 'legim',
      types: TYPES,
      ...(searchPath && { options: searchPath }),
    });
    // An idle connection that the server closes must not crash the process; the next query reconnects.
    pool.on('error', () => {});
    const database = new PostgresDatabase(pool);
    try {
      if (options.schema) await database.createSchema(options.schema);
      await database.transaction((tx) => migrate(tx));
    } catch (error) {
      await pool.end();
      throw error;
    }
    return database;
  }

  async query<Row extends object = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<Row[]> {
    return this.guard(async () => (await this.pool.query<Row>(text, params)).rows);
  }

  /** Runs `work` in one transaction on one connection: all of it commits, or none. */
  async transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.guard(async () => {
      const client = await this.pool.connect();
      // A connection the server drops while checked out emits 'error' between statements; unheard, that
      // would crash the process. The transaction's next statement fails instead, and is answered as such.
      const dropped = () => {};
      client.on('error', dropped);
      const tx: Queryable = {
        query: async <Row extends object>(text: string, params: unknown[] = []) =>
          (await client.query<Row>(text, params)).rows,
      };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        client.off('error', dropped);
        client.release();
        return result;
      } catch (error) {
        // A connection whose transaction cannot be rolled back is broken: destroyed, not pooled.
        const rolledBack = await client.query('ROLLBACK').then(
          () => true,
          () => false,
        );
        client.off('error', dropped);
        client.release(!rolledBack);
        throw error;
      }
    });
  }

  /**
   * `CREATE SCHEMA IF NOT EXISTS` is not safe against a concurrent one (both
   * pass the check, one fails on pg_namespace's unique index), so gateways
   * that start together on a new schema take turns under an advisory lock.
   */
  private async createSchema(schema: string): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`legim_schema.${schema}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    });
  }

  /** Whether the last use of the database succeeded. */
  reachable(): boolean {
    return !this.lastUseFailed;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      const result = await work();
      this.lastUseFailed = false;
      return result;
    } catch (error) {
      if (!isUnreachable(error)) throw error;
      this.lastUseFailed = true;
      throw new LegimError('INDEX_UNAVAILABLE', 'the index database cannot be reached; try again shortly', {
        cause: error,
        details: { retryAfter: 1 },
      });
    }
  }
}

function isUnreachable(error: unknown): boolean {
  if (LegimError.is(error)) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNREACHABLE_STATES.test(code) || UNREACHABLE_ERRNOS.has(code))) return true;
  // node-postgres reports a pool wait or a dropped connection with a message and no code.
  return (
    typeof message === 'string' &&
    /timeout exceeded when trying to connect|Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      message,
    )
  );
}
