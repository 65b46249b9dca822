import { LegimError } from '@legim/sdk';
import type { NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';

/** Files whose last confirmed checkpoint this gateway remembers; forgetting one costs one extra write. */
const MAX_REMEMBERED = 100_000;

/**
 * How many downloads one checkpoint reserves ahead: an eighth of the limit
 * (at least 1). A limit of 1 to 8 writes a checkpoint before every
 * download; 1000 writes one every 125. Eight writes per file at most keeps
 * the hot path cheap, and a rebuilt index loses at most `block - 1`
 * downloads of a file (12.5 %), never serves one too many.
 */
export function checkpointBlock(maxDownloads: number): number {
  return Math.max(1, Math.ceil(maxDownloads / 8));
}

function isUnreachable(error: unknown): boolean {
  return LegimError.is(error) && error.code === 'UNAVAILABLE';
}

function unknownNode(nodeId: string): LegimError {
  return new LegimError('UNAVAILABLE', `storage node ${nodeId} is not known to this gateway`);
}

function noReplica(): LegimError {
  return new LegimError(
    'UNAVAILABLE',
    'no replica of this file can be read right now; no download was counted, retry shortly',
    {
      details: { retryAfter: 5 },
    },
  );
}

interface FileCheckpoint {
  /** Acknowledged by a quorum of the original's durable copies that could be reached. */
  confirmed: number;
  /** Writes under way; a download waits for one that covers it, or starts its own. */
  inFlight: { target: number; written: Promise<void> }[];
}

/**
 * The counter rule of an index rebuilt from the nodes: before download `n`
 * of a file is served, the original's durable copies that can be reached
 * record "downloads taken ≥ n" in their sidecars (`POST /blobs/:key/checkpoint`),
 * a write quorum of them, or all of them when fewer answer. A rebuild
 * (downloadsLeft = max − the highest checkpoint) then never hands out more
 * than the limit unless the copies that recorded it are lost with the
 * index; in exchange a file stays downloadable while one copy is up.
 * Checkpoints reserve a block ahead (see {@link checkpointBlock}) and
 * concurrent downloads of one file share one write. What this gateway knows
 * was acknowledged, so forgetting (a restart, another gateway) only costs a
 * write; node checkpoints only ever rise.
 */
export class DownloadCheckpoints {
  private readonly files = new Map<string, FileCheckpoint>();

  constructor(
    private readonly metadata: Pick<MetadataStore, 'replicaStates'>,
    private readonly registry: NodeRegistry,
    private readonly writeQuorum: number,
  ) {}

  /**
   * Resolves once the nodes record at least `taken` downloads of `file`;
   * throws `CHECKPOINT_FAILED` when too few copies acknowledged (the caller
   * refunds the download and fails closed).
   */
  async ensure(file: FileRecord, taken: number): Promise<void> {
    const state = this.stateOf(file.id);
    while (state.confirmed < taken) {
      // A write that covers this download is shared (its failure is ours too). Otherwise this download
      // starts its own at once, beside lower ones: nodes keep the highest, so the order does not matter.
      const covering = state.inFlight.find((write) => write.target >= taken);
      if (covering) {
        await covering.written;
        continue;
      }
      const target = Math.min(file.maxDownloads, taken + checkpointBlock(file.maxDownloads) - 1);
      const entry = {
        target,
        written: this.write(file, target).then(() => {
          state.confirmed = Math.max(state.confirmed, target);
        }),
      };
      state.inFlight.push(entry);
      try {
        await entry.written;
      } finally {
        state.inFlight.splice(state.inFlight.indexOf(entry), 1);
      }
    }
  }

  /**
   * Writes `target` to every copy of the original that is not known to be
   * down, and resolves once a write quorum of the durable ones has it, or
   * every one that could be reached when fewer could: a node that does not
   * answer is down, not a refusal.
   */
  private async write(file: FileRecord, target: number): Promise<void> {
    const copies = (await this.metadata.replicaStates(file.id)).filter(
      (copy) => this.registry.get(copy.nodeId)?.status !== 'down',
    );
    const results = await Promise.allSettled(
      copies.map((copy) => {
        const node = this.registry.get(copy.nodeId);
        return node ? node.transport.checkpoint(file.id, target) : Promise.reject(unknownNode(copy.nodeId));
      }),
    );
    const durable = results.filter((_, i) => copies[i]!.durable);
    const reached = durable.filter((result) => result.status === 'fulfilled' || !isUnreachable(result.reason));
    // No copy to record it on is no copy to read either: the same answer the reader would give.
    if (reached.length === 0) throw noReplica();
    const acknowledged = durable.filter((result) => result.status === 'fulfilled').length;
    if (acknowledged >= Math.min(this.writeQuorum, reached.length)) return;
    const failures = results.flatMap((result, i) =>
      result.status === 'rejected' ? [`${copies[i]!.nodeId}: ${(result.reason as Error).message}`] : [],
    );
    throw new LegimError(
      'CHECKPOINT_FAILED',
      `the download could not be recorded on enough copies of the file (${failures.join('; ')}); nothing was served, retry shortly`,
      { details: { retryAfter: 2 } },
    );
  }

  private stateOf(fileId: string): FileCheckpoint {
    let state = this.files.get(fileId);
    if (!state) {
      state = { confirmed: 0, inFlight: [] };
      this.files.set(fileId, state);
      if (this.files.size > MAX_REMEMBERED) this.files.delete(this.files.keys().next().value as string);
    }
    return state;
  }
}
