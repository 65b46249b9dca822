import { LegimError } from './errors.js';
import { fileIdFromUrl } from './file-id.js';
import { getFileInfo, type WaitOptions } from './files.js';
import type { HttpContext } from './http.js';
import type { FileInfo, UploadedFile } from './protocol/index.js';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_INTERVAL_MS = 500;
/** setTimeout fires at once for longer delays; anything beyond counts as "no deadline". */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Marks the error a wait throws at its deadline, so `upload({ wait })` can tell it apart. */
const TIMED_OUT = Symbol('legim.wait.timedOut');

interface CheckedWait {
  timeoutMs: number;
  intervalMs: number;
}

/** Validates the wait options before anything is sent. */
export function checkWaitOptions(options: Omit<WaitOptions, 'signal'> = {}): CheckedWait {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
  if (typeof timeoutMs !== 'number' || Number.isNaN(timeoutMs) || timeoutMs <= 0) {
    throw new LegimError(
      'INVALID_OPTION',
      `invalid timeoutMs ${timeoutMs}: expected a number of milliseconds > 0 (Infinity waits as long as it takes)`,
    );
  }
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new LegimError('INVALID_OPTION', `invalid intervalMs ${intervalMs}: expected a number of milliseconds > 0`);
  }
  return { timeoutMs, intervalMs };
}

/**
 * Polls the file object until its `status` is not `processing`. A gateway
 * that cannot be reached or answers 503 for a moment is polled again; any
 * other error (the file expired, was deleted...) is thrown at once. At the
 * deadline: `UNAVAILABLE` with `details.timeoutMs` and `details.file` (the
 * last file object seen, if any).
 */
export async function waitUntilProcessed(
  ctx: HttpContext,
  idOrUrl: string,
  options: WaitOptions = {},
): Promise<FileInfo> {
  const id = fileIdFromUrl(idOrUrl);
  const { timeoutMs, intervalMs } = checkWaitOptions(options);
  const { signal } = options;
  signal?.throwIfAborted();

  const started = Date.now();
  let last: FileInfo | undefined;
  let lastError: unknown;
  const timedOut = (): LegimError => {
    const error = new LegimError(
      'UNAVAILABLE',
      `file ${id} is still processing after ${seconds(timeoutMs)}: its variants are not ready yet ` +
        '(the original is stored and can be downloaded); look again later, or wait longer with timeoutMs',
      { cause: lastError, details: { timeoutMs, file: last } },
    );
    Object.defineProperty(error, TIMED_OUT, { value: true });
    return error;
  };

  // The deadline also cuts short a request that hangs.
  const deadline = new AbortController();
  const timer = timeoutMs <= MAX_TIMER_MS ? setTimeout(() => deadline.abort(), timeoutMs) : undefined;
  const combined = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
  const expired = (): boolean => deadline.signal.aborted && !signal?.aborted;
  try {
    for (;;) {
      try {
        last = await getFileInfo(ctx, id, { signal: combined });
        if (last.status !== 'processing') return last;
        lastError = undefined;
      } catch (error) {
        if (expired()) throw timedOut();
        if (!isTransient(error)) throw error;
        lastError = error;
      }
      const left = timeoutMs - (Date.now() - started);
      if (left <= 0) throw timedOut();
      try {
        await sleep(Math.min(intervalMs, left), combined);
      } catch (error) {
        if (expired()) throw timedOut();
        throw error;
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The tail of `upload({ wait })`: the upload succeeded, so a deadline is not
 * an error; the caller gets the latest state, always with its delete token.
 */
export async function settleAfterUpload(
  ctx: HttpContext,
  uploaded: UploadedFile,
  wait: CheckedWait,
  signal: AbortSignal | undefined,
): Promise<UploadedFile> {
  if (uploaded.status !== 'processing') return uploaded;
  let file: FileInfo | undefined;
  try {
    file = await waitUntilProcessed(ctx, uploaded.id, { ...wait, signal });
  } catch (error) {
    if (!(LegimError.is(error) && (error as unknown as Record<symbol, unknown>)[TIMED_OUT] === true)) throw error;
    file = error.details?.file as FileInfo | undefined;
  }
  return { ...uploaded, ...file, deleteToken: uploaded.deleteToken };
}

/** Worth another look: the gateway is unreachable or overloaded for now. */
function isTransient(error: unknown): boolean {
  return LegimError.is(error) && (error.code === 'NETWORK_ERROR' || error.statusCode === 503);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function seconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}
