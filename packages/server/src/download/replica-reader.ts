import { LegimError } from '@legim/sdk';
import type { BlobRead } from '../backends/blob-transport/blob-transport.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { HealthMonitor } from '../health/health-monitor.js';

export interface BlobToRead {
  key: string;
  size: number;
  /** Nodes that hold or may hold the blob. */
  nodeIds: string[];
  /** First byte to read; from the start without. */
  start?: number;
  /** Last byte to read (included); to the end without. */
  end?: number;
}

interface OpenReplica {
  node: ClusterNode;
  read: BlobRead;
}

/** A blob being read: its bytes, and a way to let it go unread. */
export interface OpenedBlob {
  chunks: AsyncIterable<Buffer>;
  /** Releases the replica's connection when the bytes will not be read (the client left first). */
  close(): void;
  /** The node whose bytes are being read now (the reader may have moved to another since it opened). */
  source(): string;
}

/**
 * Reads a replicated blob: healthiest replica first; if one fails before the
 * first byte the next one serves it, and if one fails mid-body the next one
 * resumes at the same byte (a Range read), so the reader never sees a replica
 * fail while any replica works.
 */
export class ReplicaReader {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly health: HealthMonitor,
  ) {}

  /**
   * Opens the first replica that answers (throws UNAVAILABLE when none does,
   * before any byte is read) and returns the blob's bytes from `start`. The
   * iteration throws only when every remaining replica failed mid-body.
   */
  async open(blob: BlobToRead): Promise<OpenedBlob> {
    const replicas = this.registry.readOrder(blob.nodeIds)[Symbol.iterator]();
    const reading = { current: await this.openNext(replicas, blob, blob.start ?? 0) };
    return {
      chunks: this.bytes(replicas, blob, reading),
      close: () => {
        const { stream } = reading.current.read;
        // Destroying an unread response body makes it emit an abort error: expected here, never a crash.
        stream.once('error', () => {});
        stream.destroy();
      },
      source: () => reading.current.node.id,
    };
  }

  private async *bytes(
    replicas: Iterator<ClusterNode>,
    blob: BlobToRead,
    reading: { current: OpenReplica },
  ): AsyncGenerator<Buffer> {
    let offset = blob.start ?? 0;
    const stop = (blob.end ?? blob.size - 1) + 1;
    try {
      for (;;) {
        const { current } = reading;
        try {
          for await (const chunk of current.read.stream as AsyncIterable<Buffer>) {
            offset += chunk.length;
            yield chunk;
          }
          if (offset === stop) return;
          throw new Error(`the replica on ${current.node.id} ended at byte ${offset} of ${stop}`);
        } catch (error) {
          current.read.stream.destroy();
          this.health.reportFailure(current.node);
          reading.current = await this.openNext(replicas, blob, offset).catch(() => Promise.reject(error as Error));
        }
      }
    } finally {
      reading.current.read.stream.destroy();
    }
  }

  private async openNext(replicas: Iterator<ClusterNode>, blob: BlobToRead, start: number): Promise<OpenReplica> {
    let lastError: unknown;
    for (let next = replicas.next(); !next.done; next = replicas.next()) {
      const node = next.value;
      try {
        const read = await node.transport.read(blob.key, rangeFrom(start, blob));
        if (read.size === blob.size) return { node, read };
        read.stream.destroy();
        throw new Error(`the replica on ${node.id} has ${read.size} bytes, expected ${blob.size}`);
      } catch (error) {
        lastError = error;
        this.health.reportFailure(node);
      }
    }
    throw new LegimError(
      'UNAVAILABLE',
      'no replica of this file can be read right now; no download was counted, retry shortly',
      { cause: lastError, details: { retryAfter: 5 } },
    );
  }
}

/** What to ask a replica for: nothing for the whole blob, else from `start` to the blob's chosen end. */
function rangeFrom(start: number, blob: BlobToRead): { start: number; end?: number } | undefined {
  const end = blob.end !== undefined && blob.end < blob.size - 1 ? blob.end : undefined;
  if (start === 0 && end === undefined) return undefined;
  return end === undefined ? { start } : { start, end };
}
