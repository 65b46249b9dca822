import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/** pino's levels, most verbose first, and `silent` for none. */
export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface CreateLoggerOptions {
  /** Lines below this level are dropped (default `info`). */
  level?: LogLevel;
  /** The process's role, on every line: `gateway`, `node`, `worker`. */
  name: string;
  /** Where the JSON lines go; defaults to stderr, leaving stdout to the CLI's own output. */
  destination?: DestinationStream;
}

/**
 * The logger of one process: JSON lines with `level`, `time`, `name` and
 * `msg`. It is created once, where the process starts, and handed to
 * whatever logs; a component makes a child of it for its own context.
 *
 * @example
 * const logger = createLogger({ level: 'debug', name: 'node' });
 * logger.child({ reqId }).error({ err }, 'GET /blobs/x failed');
 */
export function createLogger({ level = 'info', name, destination }: CreateLoggerOptions): Logger {
  // Synchronous writes: a line logged just before the process exits or crashes is not lost.
  return pino({ level, name }, destination ?? pino.destination({ fd: 2, sync: true }));
}
