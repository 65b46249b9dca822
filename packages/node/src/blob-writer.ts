import { randomUUID } from 'node:crypto';
import { lstat, rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { LegimError } from '@legim/sdk';
import { BlobFileSink } from './blob-file-sink.js';
import type { BlobInfoCache } from './blob-info-cache.js';
import { SIDECAR_SUFFIX } from './blob-key.js';
import { serializeSidecar, type BlobInfo, type BlobSidecar } from './blob-sidecar.js';
import type { KeyedLock } from './concurrency.js';
import {
  fsyncDir,
  isMissingFileError,
  isNoSpaceError,
  mkdirDurable,
  removeQuietly,
  unlinkIfExists,
  writeFileSynced,
} from './durable-fs.js';
import { closeFd, closeFdQuietly, fsyncFd, openFd } from './fd-io.js';
import type { BlobPaths, ShardedLayout } from './sharded-layout.js';
import { pipeInto } from './pipe-into.js';
import { normalizeSha256, resolveExpectedSha256 } from './sha256-hex.js';
import { diskFull, type StorageLedger } from './storage-ledger.js';

export interface PutBlobOptions {
  /** Expected SHA-256 (hex), when known before the bytes are sent. */
  sha256?: string;
  /** Asked once the source has ended, when the digest comes last (HTTP trailers). */
  expectedSha256?: () => string | undefined;
  /** Stored in the sidecar as `meta`. */
  meta?: unknown;
  /** Asked once the source has ended: a meta sent last (an HTTP trailer) replaces `meta`. */
  finalMeta?: () => unknown;
  /** Declared length, if known: lets a full store refuse before reading any byte. */
  size?: number;
  /** The download checkpoint the copy starts with (a copy made from a blob that had one). */
  downloadsTaken?: number;
}

export interface BlobWriterOptions {
  dataDir: string;
  tmpDir: string;
  layout: ShardedLayout;
  ledger: StorageLedger;
  cache: BlobInfoCache;
  lock: KeyedLock;
  /** Bytes gathered before each write to the file. */
  batchBytes: number;
}

/**
 * The write side of the store: bytes stream to `tmp/` while being hashed,
 * and once the digest is verified the blob and its sidecar are fsync'd (in
 * parallel), renamed into the shard folder (blob, then sidecar: a blob is
 * only readable with its sidecar) and the folder is fsync'd once.
 */
export class BlobWriter {
  readonly #options: BlobWriterOptions;
  readonly #shardDirsReady = new Map<string, Promise<void>>();

  constructor(options: BlobWriterOptions) {
    this.#options = options;
  }

  /** The caller has validated `key`; see `BlobStore.put` for the contract. */
  async put(key: string, source: Readable, options: PutBlobOptions): Promise<BlobInfo> {
    const { ledger, dataDir } = this.#options;
    // Until pipeInto() listens, a source failing (a client hanging up) while we
    // check for room would be an unhandled 'error' event and crash the process.
    const ignoreEarlyError = (): void => undefined;
    source.on('error', ignoreEarlyError);
    const tmpBlob = join(this.#options.tmpDir, randomUUID());
    const tmpSidecar = tmpBlob + SIDECAR_SUFFIX;
    const paths = this.#options.layout.paths(key);
    let reserved = 0;
    let fd: number | undefined;
    let sink: BlobFileSink | undefined;
    let committed = false;
    try {
      if (options.sha256 !== undefined) normalizeSha256(options.sha256);
      if (options.size !== undefined) await ledger.assertRoomFor(dataDir, options.size);
      fd = await openFd(tmpBlob, 'wx');
      sink = new BlobFileSink(
        fd,
        (bytes) => {
          ledger.reserve(bytes);
          reserved += bytes;
        },
        this.#options.batchBytes,
      );
      const written = pipeInto(source, sink);
      source.off('error', ignoreEarlyError);
      await written;
      const sha256 = sink.digest();
      const expected = resolveExpectedSha256(options.sha256, options.expectedSha256);
      if (expected !== sha256) {
        throw new LegimError(
          'DIGEST_MISMATCH',
          `the bytes received hash to ${sha256}, not ${expected}; nothing was stored`,
        );
      }
      const sidecar: BlobSidecar = {
        key,
        size: sink.bytes,
        sha256,
        storedAt: new Date().toISOString(),
        meta: options.finalMeta?.() ?? options.meta ?? null,
        ...(options.downloadsTaken !== undefined && { downloadsTaken: options.downloadsTaken }),
      };
      // A new shard folder (and its fsync'd parent) is made alongside, not after, the two fsyncs.
      await allOrFirstError([
        fsyncFd(fd),
        writeFileSynced(tmpSidecar, serializeSidecar(sidecar)),
        this.#ensureShardDir(paths.dir),
      ]);
      const blobFd = fd;
      fd = undefined;
      closeFd(blobFd);
      await this.#commit(key, paths, tmpBlob, tmpSidecar, { size: sidecar.size, sha256 });
      committed = true;
      return { key, size: sidecar.size, sha256 };
    } catch (error) {
      source.destroy();
      throw isNoSpaceError(error) ? diskFull(error) : error;
    } finally {
      source.off('error', ignoreEarlyError);
      ledger.release(reserved);
      if (fd !== undefined) {
        // A batch may still be on its way to the file; closing under it could hand its fd number to another file.
        await sink?.idle();
        closeFdQuietly(fd);
      }
      if (!committed) await Promise.all([removeQuietly(tmpBlob), removeQuietly(tmpSidecar)]);
    }
  }

  /** Moves a verified, fsync'd write into place under the key's lock. */
  async #commit(
    key: string,
    paths: BlobPaths,
    tmpBlob: string,
    tmpSidecar: string,
    info: { size: number; sha256: string },
  ): Promise<void> {
    const { cache, ledger } = this.#options;
    await this.#options.lock.run(key, async () => {
      const previousSize = cache.get(key)?.size ?? (await sizeIfPresent(paths.blob));
      // Lock-free readers check the entry again after opening the blob; removing it first makes a racing one retry under the lock.
      cache.delete(key);
      // A blob without a sidecar counts as absent (and start-up removes it), so a crash anywhere in
      // here leaves the key absent, never an old blob beside a new sidecar: the old sidecar goes first.
      if (previousSize !== undefined) await unlinkIfExists(paths.sidecar);
      await rename(tmpBlob, paths.blob);
      await rename(tmpSidecar, paths.sidecar);
      cache.set(key, info);
      ledger.recordStored(info.size, previousSize);
      await fsyncDir(paths.dir);
    });
  }

  #ensureShardDir(dir: string): Promise<void> {
    let ready = this.#shardDirsReady.get(dir);
    if (!ready) {
      ready = mkdirDurable(dir);
      this.#shardDirsReady.set(dir, ready);
      ready.catch(() => this.#shardDirsReady.delete(dir));
    }
    return ready;
  }
}

/** Like `Promise.all`, but settles only once every promise has, so no cleanup races a step still running. */
async function allOrFirstError(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function sizeIfPresent(path: string): Promise<number | undefined> {
  try {
    return (await lstat(path)).size;
  } catch (error) {
    if (isMissingFileError(error)) return undefined;
    throw error;
  }
}
