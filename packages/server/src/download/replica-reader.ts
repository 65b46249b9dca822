import type { ServerResponse } from 'node:http';
import { LegimError } from '@legim/sdk';
import type { BlobRead } from '../backends/blob-transport/blob-transport.js';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { HealthMonitor } from '../health/health-monitor.js';

export interface BlobToServe {
  key: string;
  size: number;
  /** Nodes that hold or may hold the blob. */
  nodeIds: string[];
  headers: Record<string, string | number>;
  /** First byte to send, for a range answered 206 (a resumed download); the whole blob, 200, without. */
  start?: number;
}

/**
 * Streams a replicated blob to a client: healthiest replica first; if one
 * fails before the response starts the next one serves it, and if one fails
 * mid-body the next one resumes at the same byte (a Range read), so the
 * client never sees a replica fail while any replica works.
 */
export class ReplicaReader {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly health: HealthMonitor,
  ) {}

  /** Resolves with the bytes sent; throws UNAVAILABLE only when nothing could be sent at all. */
  async serve(blob: BlobToServe, res: ServerResponse): Promise<number> {
    const first = blob.start ?? 0;
    let sent = first;
    let lastError: unknown;
    for (const node of this.registry.readOrder(blob.nodeIds)) {
      if (res.destroyed) return sent - first;
      let read: BlobRead;
      try {
        read = await node.transport.read(blob.key, sent > 0 ? { start: sent } : undefined);
        if (read.size !== blob.size)
          throw new Error(`replica on ${node.id} has ${read.size} bytes, expected ${blob.size}`);
      } catch (error) {
        lastError = error;
        this.health.reportFailure(node);
        continue;
      }
      if (!res.headersSent) res.writeHead(blob.start === undefined ? 200 : 206, blob.headers);
      try {
        sent = await pump(read, res, sent);
        if (sent === blob.size || res.destroyed) break;
      } catch (error) {
        sent = (error as { sent?: number }).sent ?? sent;
        lastError = error;
        this.health.reportFailure(node);
      }
    }
    if (sent === blob.size) {
      res.end();
      return sent - first;
    }
    if (res.headersSent) {
      // Every replica failed mid-transfer: a short body must not look complete.
      res.destroy();
      return sent - first;
    }
    throw new LegimError(
      'UNAVAILABLE',
      'no replica of this file can be read right now; no download was counted, retry shortly',
      {
        cause: lastError,
        details: { retryAfter: 5 },
      },
    );
  }
}

/** Copies a replica's stream to the client; returns the new byte offset. */
async function pump(read: BlobRead, res: ServerResponse, offset: number): Promise<number> {
  let sent = offset;
  try {
    for await (const chunk of read.stream as AsyncIterable<Buffer>) {
      if (res.destroyed) break;
      sent += chunk.length;
      if (!res.write(chunk)) await drained(res);
    }
  } catch (error) {
    throw Object.assign(error as Error, { sent });
  } finally {
    read.stream.destroy();
  }
  return sent;
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
