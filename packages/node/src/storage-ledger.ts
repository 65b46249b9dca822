import { statfs } from 'node:fs/promises';
import { LegimError } from '@legim/sdk';
import { filesystemId } from './filesystem-id.js';

export interface BlobStoreStats {
  blobCount: number;
  usedBytes: number;
  /** The smaller of the disk's free space and what is left of the capacity. */
  freeBytes: number;
  /** The capacity when one is set, else the disk's size. */
  totalBytes: number;
  /**
   * The filesystem the data folder is on: nodes sharing one report the same
   * `id`, so that the gateway counts its size and free space once.
   */
  filesystem: { id: string; totalBytes: number; freeBytes: number };
}

/**
 * The store's running totals, kept in memory (counted once at start-up,
 * then updated on every write and delete) so `stats()` costs one `statfs`.
 * Bytes still streaming are reserved against the capacity, so concurrent
 * writes cannot overshoot it together.
 */
export class StorageLedger {
  readonly capacityBytes: number | undefined;
  #blobCount = 0;
  #usedBytes = 0;
  #inflightBytes = 0;
  #filesystemId: Promise<string> | undefined;

  constructor(capacityBytes: number | undefined) {
    if (capacityBytes !== undefined && !(Number.isSafeInteger(capacityBytes) && capacityBytes > 0)) {
      throw new LegimError('INVALID_OPTION', `capacityBytes must be a positive integer, got ${capacityBytes}`);
    }
    this.capacityBytes = capacityBytes;
  }

  reset(blobCount: number, usedBytes: number): void {
    this.#blobCount = blobCount;
    this.#usedBytes = usedBytes;
  }

  /** Counts `bytes` of a write in progress; throws `INSUFFICIENT_STORAGE` past the capacity. */
  reserve(bytes: number): void {
    if (this.capacityBytes !== undefined && this.#usedBytes + this.#inflightBytes + bytes > this.capacityBytes) {
      throw capacityFull(this.capacityBytes);
    }
    this.#inflightBytes += bytes;
  }

  /** Gives back what `reserve` took, once the write is stored or abandoned. */
  release(bytes: number): void {
    this.#inflightBytes -= bytes;
  }

  /** A blob of `size` bytes became visible, replacing one of `previousSize` if given. */
  recordStored(size: number, previousSize: number | undefined): void {
    if (previousSize === undefined) this.#blobCount += 1;
    this.#usedBytes += size - (previousSize ?? 0);
  }

  recordRemoved(size: number): void {
    this.#blobCount -= 1;
    this.#usedBytes -= size;
  }

  async stats(dataDir: string): Promise<BlobStoreStats> {
    // The data folder does not move while the node runs: its filesystem is read once.
    this.#filesystemId ??= filesystemId(dataDir);
    const [{ diskFree, diskTotal, capacityLeft }, id] = await Promise.all([this.#room(dataDir), this.#filesystemId]);
    return {
      blobCount: this.#blobCount,
      usedBytes: this.#usedBytes,
      freeBytes: Math.min(diskFree, capacityLeft),
      totalBytes: this.capacityBytes ?? diskTotal,
      filesystem: { id, totalBytes: diskTotal, freeBytes: diskFree },
    };
  }

  /** Refuses a write of a known size up front, before any byte is read. */
  async assertRoomFor(dataDir: string, size: number): Promise<void> {
    const { diskFree, capacityLeft } = await this.#room(dataDir);
    if (size > capacityLeft) throw capacityFull(this.capacityBytes ?? 0);
    if (size > diskFree) {
      throw new LegimError(
        'INSUFFICIENT_STORAGE',
        `the disk has ${diskFree} bytes free and ${size} are needed: free some space or add nodes`,
      );
    }
  }

  async #room(dataDir: string): Promise<{ diskFree: number; diskTotal: number; capacityLeft: number }> {
    const disk = await statfs(dataDir);
    const capacityLeft =
      this.capacityBytes === undefined
        ? Number.POSITIVE_INFINITY
        : Math.max(0, this.capacityBytes - this.#usedBytes - this.#inflightBytes);
    return { diskFree: disk.bavail * disk.bsize, diskTotal: disk.blocks * disk.bsize, capacityLeft };
  }
}

export function capacityFull(capacityBytes: number): LegimError {
  return new LegimError(
    'INSUFFICIENT_STORAGE',
    `this node is at its capacity of ${capacityBytes} bytes: raise --capacity or add nodes`,
  );
}

export function diskFull(cause: unknown): LegimError {
  return new LegimError('INSUFFICIENT_STORAGE', 'the disk is full: free some space or add nodes', { cause });
}
