import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LegimError } from '@legim/sdk';
import { isValidBlobKey } from './blob-key.js';
import { readSidecar, type BlobSidecar } from './blob-sidecar.js';
import type { BlobStore } from './blob-store.js';
import { BytePacer } from './byte-pacer.js';
import { CorruptReports } from './corrupt-reports.js';
import { errorCode, isMissingFileError } from './durable-fs.js';
import { closeFdQuietly, fstatFd, openFd, readAt } from './fd-io.js';
import type { Logger } from './logging/create-logger.js';

/** 32 MiB/s: a fraction of what a disk reads, so serving keeps the rest. */
export const DEFAULT_SCRUB_RATE = 32 * 2 ** 20;
export const DEFAULT_SCRUB_INTERVAL_MS = 3600_000;

/** Keys listed at a time; each listing reads every shard folder, so pages are large. */
const PAGE = 10_000;
const MAX_CHUNK = 1024 * 1024;
const MIN_CHUNK = 16 * 1024;

export interface BlobScrubberOptions {
  store: BlobStore;
  /** Bytes read per second at most; 0 stops background passes (`runPass()` then reads unpaced). */
  bytesPerSecond?: number;
  /** Pause after each full pass (default 1 h). */
  intervalMs?: number;
  logger: Logger;
}

/** `GET /stats` → `scrub`: counts since the node started. */
export interface ScrubStats {
  /** Blobs read and compared with their sidecar. */
  scanned: number;
  /** Blobs found corrupt and moved to quarantine. */
  corrupt: number;
  /** ISO 8601 end of the last full pass; `null` before the first. */
  lastPassAt: string | null;
}

export interface ScrubPass {
  scanned: number;
  /** Keys moved to quarantine by this pass. */
  corrupt: string[];
}

/** `gone`: replaced or deleted while it was read, or not readable right now; looked at again next pass. */
type Verdict = { state: 'gone' } | { state: 'intact' } | { state: 'corrupt' };

/**
 * Reads every blob in the background, in key order, and compares its bytes
 * with the size and SHA-256 in its sidecar, at most `bytesPerSecond` so that
 * serving keeps the disk. A blob that differs (bit rot, a truncated file, an
 * unreadable sidecar or sector) is moved to the store's quarantine folder and
 * its key queued in `reports` for the gateway, which forgets that copy and
 * makes another from a good one. A blob replaced or deleted while it was read
 * is left alone (the store checks that, under the key's lock). After a full
 * pass it waits `intervalMs` before the next.
 */
export class BlobScrubber {
  /** Corrupt keys not yet confirmed by the gateway. */
  readonly reports = new CorruptReports();
  readonly #store: BlobStore;
  readonly #pacer: BytePacer | undefined;
  readonly #chunk: Buffer;
  readonly #intervalMs: number;
  readonly #log: Logger;
  readonly #abort = new AbortController();
  #passes: Promise<unknown> = Promise.resolve();
  #running: Promise<void> | undefined;
  #scanned = 0;
  #corrupt = 0;
  #lastPassAt: string | null = null;

  constructor(options: BlobScrubberOptions) {
    const rate = options.bytesPerSecond ?? DEFAULT_SCRUB_RATE;
    this.#store = options.store;
    this.#pacer = rate > 0 ? new BytePacer(rate) : undefined;
    // Small reads at a low rate, so the pacing stays smooth.
    this.#chunk = Buffer.allocUnsafe(rate > 0 ? Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, rate / 8)) : MAX_CHUNK);
    this.#intervalMs = options.intervalMs ?? DEFAULT_SCRUB_INTERVAL_MS;
    this.#log = options.logger.child({ component: 'scrubber' });
  }

  /**
   * Queues again the reports of blobs quarantined before a restart that the
   * store does not hold again, then runs passes until `stop()` (none at rate 0).
   */
  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    await this.#passes.catch(() => undefined);
  }

  stats(): ScrubStats {
    return { scanned: this.#scanned, corrupt: this.#corrupt, lastPassAt: this.#lastPassAt };
  }

  /** One full pass now, after any pass in progress. */
  runPass(): Promise<ScrubPass> {
    const pass = this.#passes.catch(() => undefined).then(() => this.#pass());
    this.#passes = pass;
    return pass;
  }

  async #run(): Promise<void> {
    try {
      await this.#requeueUnreported();
    } catch (error) {
      this.#log.warn({ err: error }, 'could not read the quarantine folder for reports still to send');
    }
    if (!this.#pacer) return;
    const { signal } = this.#abort;
    while (!signal.aborted) {
      try {
        await this.runPass();
        await sleep(this.#intervalMs, undefined, { signal, ref: false });
      } catch (error) {
        if (signal.aborted) return;
        this.#log.error({ err: error }, 'a scrub pass failed; the next starts after the usual pause');
        await sleep(this.#intervalMs, undefined, { signal, ref: false }).catch(() => undefined);
      }
    }
  }

  async #pass(): Promise<ScrubPass> {
    const result: ScrubPass = { scanned: 0, corrupt: [] };
    let failures = 0;
    this.#pacer?.restart();
    let after: string | undefined;
    for (;;) {
      const keys = await this.#store.keysAfter(after, PAGE);
      for (const key of keys) {
        const verdict = await this.#check(key).catch((error: unknown) => {
          this.#abort.signal.throwIfAborted();
          // One line per pass: a failing disk would otherwise log every blob.
          if (++failures === 1)
            this.#log.warn({ err: error, key }, `could not scrub blob ${key}; going on with the others`);
          return { state: 'gone' } as const;
        });
        if (verdict.state === 'gone') continue;
        result.scanned += 1;
        this.#scanned += 1;
        if (verdict.state === 'corrupt') result.corrupt.push(key);
      }
      if (keys.length < PAGE) break;
      after = keys.at(-1);
    }
    if (failures > 1) this.#log.warn({ failures }, `${failures} blobs could not be scrubbed in this pass`);
    this.#lastPassAt = new Date().toISOString();
    return result;
  }

  /** Reads one blob and acts on what it finds. */
  async #check(key: string): Promise<Verdict> {
    const paths = this.#store.paths(key);
    const fd = await openFd(paths.blob, 'r').catch((error: unknown) => {
      if (isMissingFileError(error)) return undefined;
      throw error;
    });
    if (fd === undefined) return { state: 'gone' };
    // Open until the quarantine decision, so the inode compared there cannot be reused meanwhile.
    try {
      const { ino } = await fstatFd(fd);
      const read = await this.#hash(fd);
      // Read after the bytes: a blob replaced meanwhile then shows up as a mismatch the store's re-check clears.
      const sidecar = await readSidecar(paths.sidecar).catch((error: unknown) =>
        isMissingFileError(error) ? undefined : null,
      );
      if (sidecar === undefined) return { state: 'gone' };
      const reason = mismatch(read, sidecar);
      if (reason === undefined) return { state: 'intact' };
      const moved = await this.#store.quarantine({ key, ino, sidecarSha256: sidecar?.sha256 ?? null });
      if (!moved) return { state: 'gone' };
      this.#corrupt += 1;
      this.reports.add(key);
      this.#log.error(
        { key, reason },
        `blob ${key} is corrupt (${reason}): moved to ${this.#store.quarantineDir} and reported`,
      );
      return { state: 'corrupt' };
    } finally {
      closeFdQuietly(fd);
    }
  }

  /** Size and SHA-256 of the whole file; `undefined` when the disk failed to read it. */
  async #hash(fd: number): Promise<{ size: number; sha256: string } | undefined> {
    const hash = createHash('sha256');
    let size = 0;
    for (;;) {
      let bytesRead: number;
      try {
        bytesRead = await readAt(fd, this.#chunk, size);
      } catch (error) {
        if (errorCode(error) === 'EIO') return undefined;
        throw error;
      }
      hash.update(this.#chunk.subarray(0, bytesRead));
      size += bytesRead;
      await this.#pacer?.spend(bytesRead, this.#abort.signal);
      if (bytesRead < this.#chunk.length) return { size, sha256: hash.digest('hex') };
    }
  }

  async #requeueUnreported(): Promise<void> {
    const names = await readdir(this.#store.quarantineDir).catch((error: unknown) => {
      if (isMissingFileError(error)) return [];
      throw error;
    });
    for (const key of names) {
      if (!isValidBlobKey(key) || this.#abort.signal.aborted) continue;
      const held = await this.#store.stat(key).then(
        () => true,
        (error: unknown) => !(LegimError.is(error) && error.code === 'BLOB_NOT_FOUND'),
      );
      if (!held) this.reports.add(key);
    }
  }
}

/** Why the bytes read do not match the sidecar, if they do not. */
function mismatch(read: { size: number; sha256: string } | undefined, sidecar: BlobSidecar | null): string | undefined {
  if (sidecar === null) return 'its sidecar cannot be parsed';
  if (read === undefined) return 'the disk failed to read it';
  if (read.size !== sidecar.size) return `${read.size} bytes on disk, ${sidecar.size} recorded`;
  if (read.sha256 !== sidecar.sha256) return 'its SHA-256 differs from the one recorded';
  return undefined;
}
