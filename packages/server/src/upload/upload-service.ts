import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { GatewayConfig } from '../config.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';
import type { EmitEvent } from '../events/gateway-events.js';
import type { JobQueue } from '../jobs/index.js';
import { originalMeta, sealedMeta } from '../replication/blob-meta.js';
import { BlobSealer } from '../encryption/blob-cipher.js';
import type { FileKeyring } from '../encryption/file-keyring.js';
import { replicatedWrite } from '../replication/replicated-write.js';
import type { ReplicaRepairer } from '../replication/replica-repairer.js';
import { ANONYMOUS, type Principal } from '../keys/principal.js';
import type { QuotaCheck } from '../quota/quota-check.js';
import { CheckedUpload } from './checked-upload.js';
import { parseUploadOptions, type UploadOptions } from './upload-options.js';
import type { UploadSource } from './upload-source.js';

export interface UploadResult {
  file: FileRecord;
  replicas: number;
  deleteToken: string;
}

export interface UploadServiceDeps {
  config: GatewayConfig;
  metadata: MetadataStore;
  registry: NodeRegistry;
  placer: ReplicaPlacer;
  repairer: ReplicaRepairer;
  jobs: JobQueue;
  /** The uploading key's quotas. */
  quotas: QuotaCheck;
  /** With `--encrypt`: each new file gets a data key, and its bytes reach the nodes sealed with it. */
  keyring?: FileKeyring;
  emit?: EmitEvent;
  logger: Logger;
}

/**
 * Turns an upload into a replicated, indexed file: validates options and
 * bytes as they stream, writes N copies, answers once W are durable.
 */
/** How long an upload may take before copies it left behind are presumed orphaned. */
const INTENT_MS = 24 * 3600 * 1000;

export class UploadService {
  constructor(private readonly deps: UploadServiceDeps) {}

  /** `principal` sent the upload (already authenticated and allowed to upload): its key's quotas apply. */
  async upload(source: UploadSource, principal: Principal = ANONYMOUS): Promise<UploadResult> {
    const { config, metadata } = this.deps;
    const early = parseUploadOptions(source.fields, source.fileName, config);
    const now = Date.now();
    // Before any byte of the body is read: a refused upload costs the client one round trip.
    const admission = await this.deps.quotas.admit(principal, early, source.declaredLength, now);
    const id = randomUUID();
    const checked = new CheckedUpload(source.body, config, admission.size);
    await checked.readHead();

    const targets = this.chooseTargets(id, source.declaredLength ?? 0);
    // The quorum shrinks only with the cluster, not with its outages: a lone
    // server acknowledges one copy, a 3-node cluster with 2 nodes down refuses.
    const writeQuorum = Math.min(config.writeQuorum, this.deps.registry.all().length);
    if (targets.length < writeQuorum) {
      throw new LegimError(
        'REPLICATION_FAILED',
        `only ${targets.length} storage node(s) can take a copy and ${writeQuorum} are needed; nothing was stored, retry once the cluster has recovered`,
        { details: { retryAfter: 5 } },
      );
    }
    const deleteToken = randomBytes(24).toString('base64url');
    const replicasWanted = Math.min(config.replicas, this.deps.registry.all().length);
    // Everything the index needs goes into the sidecars (size and digest are the node's own), so the
    // index can be rebuilt from the nodes. A header not found in the first MiB leaves 0×0 there.
    const header = checked.header();
    const fileKey = this.deps.keyring?.newKey(id);
    const sealer = fileKey && new BlobSealer({ dataKey: fileKey.dataKey, fileId: id, blob: 'original' });
    const clearSidecar = (options: UploadOptions) =>
      originalMeta({
        id,
        title: options.title,
        contentType: header?.contentType ?? 'application/octet-stream',
        extension: header?.extension ?? 'bin',
        width: header?.width ?? 0,
        height: header?.height ?? 0,
        maxDownloads: options.maxDownloads,
        createdAt: now,
        expiresAt: now + options.ttlSeconds * 1000,
        deleteTokenHash: hashToken(deleteToken),
        replicasWanted,
        keyId: admission.keyId,
      });
    // An encrypted file's sidecars name it and nothing more (see SealedMeta).
    const sidecar = (options: UploadOptions) => (sealer ? sealedMeta(id, 'original') : clearSidecar(options));
    await metadata.recordUploadIntent(
      id,
      targets.map((node) => node.id),
      now + INTENT_MS,
    );
    let options = early;
    const written = await replicatedWrite(sealer ? sealer.seal(checked.chunks()) : checked.chunks(), {
      key: id,
      meta: { ...sidecar(early) },
      targets,
      writeQuorum,
      // Multipart fields after the file are known only now: one that cannot be honoured
      // aborts every copy; the final options reach the sidecars with the digest.
      finish: async () => {
        const sha256 = checked.finish();
        options = await this.finalOptions(source, principal);
        // The nodes verify (and later scrub) what they store: the sealed bytes, when sealed.
        return { sha256: sealer?.sha256() ?? sha256, meta: { ...sidecar(options) } };
      },
    }).catch(async (error: unknown) => {
      await metadata.abandonUpload(id, Date.now());
      throw error;
    });

    const expiresAt = now + options.ttlSeconds * 1000;
    const image = checked.image!;
    const file: FileRecord = {
      id,
      title: options.title,
      size: image.bytes,
      contentType: image.contentType,
      extension: image.extension,
      width: image.width,
      height: image.height,
      sha256: checked.sha256!,
      maxDownloads: options.maxDownloads,
      downloadsLeft: options.maxDownloads,
      createdAt: now,
      expiresAt,
      deleteAt: null,
      deleteReason: null,
      deleteTokenHash: hashToken(deleteToken),
      status: 'processing',
      statusReason: null,
      replicasWanted,
      keyId: admission.keyId,
      ...(sealer && { sealed: { size: sealer.size, sha256: sealer.sha256() } }),
    };
    await metadata
      .insertFile(file, { durable: written.durable, pending: written.pending }, now, admission.stored, fileKey?.wrapped)
      .catch(async (error: unknown) => {
        // Nothing was recorded (a quota the key reached meanwhile, or the index failing): the copies go now.
        // Should that fail too, the intent recorded above removes them when it falls due.
        await metadata.abandonUpload(id, Date.now()).catch(() => {});
        throw error;
      });
    const failed = targets.filter((node) => !written.durable.includes(node.id) && !written.pending.includes(node.id));
    await metadata.queueBlobDeletes(
      failed.map((node) => ({ nodeId: node.id, key: id })),
      now,
    );
    if (failed.length > 0 || targets.length < file.replicasWanted) this.deps.repairer.check(file.id);
    void written.late.then((late) => this.recordLateCopies(id, late));
    await this.deps.jobs.enqueue({ type: 'process', fileId: id, dedupeKey: `process:${id}` });
    await this.deps.jobs.enqueue({ type: 'expire', fileId: id, runAt: expiresAt, dedupeKey: `expire:${id}` });
    this.deps.emit?.({ type: 'file.uploaded', fileId: id, size: file.size, contentType: file.contentType });
    return { file, replicas: written.durable.length, deleteToken };
  }

  /**
   * The options with the multipart fields sent after the file, known only
   * once the whole form is read; the key's ttl and downloads quotas are
   * checked again when those changed them.
   */
  private async finalOptions(source: UploadSource, principal: Principal): Promise<UploadOptions> {
    const options = parseUploadOptions(await source.finalFields, source.fileName, this.deps.config);
    this.deps.quotas.checkOptions(principal, options);
    return options;
  }

  /** Confirms or drops the copies that were still landing when the client got its answer. */
  private async recordLateCopies(id: string, late: { durable: string[]; failed: string[] }): Promise<void> {
    const { metadata, repairer } = this.deps;
    const now = Date.now();
    try {
      for (const nodeId of late.durable) {
        // A file deleted before its last copy landed must not leave that copy behind.
        if (!(await metadata.addReplica(id, id, nodeId, now)))
          await metadata.queueBlobDeletes([{ nodeId, key: id }], now);
      }
      for (const nodeId of late.failed) await metadata.dropReplica(id, nodeId, now);
    } catch (error) {
      // The gateway is shutting down: the pending rows stay, and the repairer settles them later.
      this.deps.logger.warn({ fileId: id }, `recording late copies of ${id} failed: ${(error as Error).message}`);
    }
    if (late.failed.length > 0) repairer.check(id);
  }

  private chooseTargets(key: string, size: number): ClusterNode[] {
    const { config, registry, placer } = this.deps;
    const count = Math.min(config.replicas, registry.live().length);
    const targets = placer.place(key, size, count);
    if (targets.length === 0) {
      throw new LegimError(
        'NO_STORAGE_NODES',
        'no storage node is up; start one with `legim node start --parent <gateway>`',
      );
    }
    return targets;
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
