import { once } from 'node:events';
import { LegimError } from '@legim/sdk';
import type { BlobUpload, StoredBlob } from '../backends/blob-transport/blob-transport.js';
import type { ClusterNode } from '../cluster/node-registry.js';

interface Target {
  node: ClusterNode;
  upload: BlobUpload;
  error: unknown;
}

export interface ReplicatedWriteResult {
  /** Nodes that hold the blob durably when the quorum was reached. */
  durable: string[];
  /** Nodes still committing at that moment. */
  pending: string[];
  /** Settles when the pending commits have: which of them made it. */
  late: Promise<{ durable: string[]; failed: string[] }>;
}

export interface ReplicatedWriteOptions {
  key: string;
  meta: Record<string, unknown>;
  targets: ClusterNode[];
  writeQuorum: number;
  /**
   * Called once the source ended; returns the digest to commit with, and the
   * meta when it changed while the bytes streamed (or throws to abort).
   */
  finish(): Promise<{ sha256: string; meta?: Record<string, unknown> }>;
}

/**
 * Streams one source to several nodes at once (a source that throws aborts
 * every copy, so validation belongs in the source). The source is read at the
 * pace of the slowest live target (back-pressure, constant memory); a target
 * that fails is dropped while enough remain for the write quorum. Resolves as
 * soon as `writeQuorum` nodes have committed.
 */
export async function replicatedWrite(
  source: AsyncIterable<Buffer>,
  options: ReplicatedWriteOptions,
): Promise<ReplicatedWriteResult> {
  const targets: Target[] = options.targets.map((node) => {
    const upload = node.transport.openUpload(options.key, options.meta);
    const target: Target = { node, upload, error: undefined };
    upload.stream.on('error', (error) => {
      target.error ??= error;
    });
    return target;
  });
  const live = () => targets.filter((t) => t.error === undefined);
  const abortAll = (reason: unknown) => {
    for (const target of targets) target.upload.abort(reason instanceof Error ? reason : new Error(String(reason)));
  };

  let finished: { sha256: string; meta?: Record<string, unknown> };
  try {
    for await (const chunk of source) {
      await Promise.all(live().map((target) => write(target, chunk)));
      assertQuorumPossible(live().length, targets, options.writeQuorum);
    }
    finished = await options.finish();
  } catch (error) {
    abortAll(error);
    throw error;
  }

  return awaitQuorum(
    live().map((target) => ({ target, commit: target.upload.commit(finished.sha256, finished.meta) })),
    targets,
    options.writeQuorum,
  );
}

async function write(target: Target, chunk: Buffer): Promise<void> {
  const stream = target.upload.stream;
  if (stream.write(chunk)) return;
  try {
    await once(stream, 'drain');
  } catch (error) {
    target.error ??= error;
  }
}

function assertQuorumPossible(liveCount: number, targets: Target[], quorum: number): void {
  if (liveCount < quorum) throw quorumError(targets, quorum);
}

function quorumError(targets: Target[], quorum: number): LegimError {
  const errors = targets.map((t) => t.error).filter((e) => e !== undefined);
  const storageFull = errors.length > 0 && errors.every((e) => LegimError.is(e) && e.code === 'INSUFFICIENT_STORAGE');
  if (storageFull) return new LegimError('INSUFFICIENT_STORAGE', 'the storage nodes are full; nothing was stored');
  const reasons = targets
    .filter((t) => t.error !== undefined)
    .map((t) => `${t.node.id}: ${t.error instanceof Error ? t.error.message : String(t.error)}`);
  return new LegimError(
    'REPLICATION_FAILED',
    `could not store ${quorum} copies (${reasons.join('; ') || 'no node answered'}); nothing was kept, please retry`,
    { details: { retryAfter: 5 } },
  );
}

/**
 * Resolves once `quorum` commits succeeded. A failure is reported only after
 * every commit has settled, so the caller's cleanup cannot race a copy that
 * is still landing.
 */
function awaitQuorum(
  commits: { target: Target; commit: Promise<StoredBlob> }[],
  targets: Target[],
  quorum: number,
): Promise<ReplicatedWriteResult> {
  if (commits.length < quorum) return Promise.reject(quorumError(targets, quorum));
  return new Promise((resolve, reject) => {
    const durable: string[] = [];
    const late = { durable: [] as string[], failed: [] as string[] };
    const settledIds = new Set<string>();
    let resolveLate: (value: typeof late) => void = () => {};
    const lateDone = new Promise<typeof late>((r) => (resolveLate = r));
    let answered = false;

    for (const { target, commit } of commits) {
      const id = target.node.id;
      commit
        .then(
          () => (answered ? late.durable : durable).push(id),
          (error: unknown) => {
            target.error ??= error;
            if (answered) late.failed.push(id);
          },
        )
        .finally(() => {
          settledIds.add(id);
          if (!answered && durable.length >= quorum) {
            answered = true;
            const pending = commits.map((c) => c.target.node.id).filter((nodeId) => !settledIds.has(nodeId));
            resolve({ durable: [...durable], pending, late: lateDone });
          }
          if (settledIds.size < commits.length) return;
          resolveLate(late);
          if (!answered) reject(quorumError(targets, quorum));
        });
    }
  });
}
