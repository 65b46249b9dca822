import { LegimError, isErrorCode } from '@legim/sdk';
import type { ProcessImageOptions, ProcessedVariant } from '../processing/index.js';

/**
 * The messages between the gateway and its image process, over the IPC
 * channel of `child_process.fork` with `serialization: 'advanced'` (V8's
 * structured clone: the variants' Buffers travel as bytes, not as JSON).
 */

/** Gateway → image process: make the variants of the image at `path`. */
export interface ProcessRequest {
  type: 'process';
  id: number;
  path: string;
  options: ProcessImageOptions;
}

/** Image process → gateway. */
export type ImageProcessMessage =
  | { type: 'ready' }
  | { type: 'done'; id: number; variants: ProcessedVariant[] }
  | { type: 'failed'; id: number; error: SerializedError };

/** An error as it crosses the process boundary: enough to rebuild a `LegimError` (and its `details`). */
export interface SerializedError {
  message: string;
  code?: string;
  details?: Record<string, unknown>;
}

export function serializeError(error: unknown): SerializedError {
  if (LegimError.is(error)) return { message: error.message, code: error.code, details: error.details };
  return { message: error instanceof Error ? error.message : String(error) };
}

/** A `LegimError` comes back as one (so `isPermanentProcessingError` still holds); anything else as a plain `Error`. */
export function deserializeError(error: SerializedError): Error {
  if (error.code !== undefined && isErrorCode(error.code)) {
    return new LegimError(error.code, error.message, { details: error.details });
  }
  return new Error(error.message);
}
