import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import type { GatewayConfig } from '../config.js';
import type { ClusterNode, NodeRegistry } from '../cluster/node-registry.js';
import type { FileRecord, MetadataStore } from '../metadata/types.js';
import type { ReplicaPlacer } from '../placement/replica-placer.js';
import { replicatedWrite } from '../replication/replicated-write.js';
import type { ReplicaRepairer } from '../replication/replica-repairer.js';
import { CheckedUpload, tooLarge } from './checked-upload.js';
import { parseUploadOptions } from './upload-options.js';
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
}

/**
 * Turns an upload into a replicated, indexed file: validates options and
 * bytes as they stream, writes N copies, answers once W are durable.
 */
export class UploadService {
  constructor(private readonly deps: UploadServiceDeps) {}

  async upload(source: UploadSource): Promise<UploadResult> {
    const { config, metadata } = this.deps;
    const options = parseUploadOptions(source.fields, source.fileName, config);
    if (source.declaredLength !== undefined && source.declaredLength > config.maxUploadBytes) {
      throw tooLarge(config.maxUploadBytes);
    }
    const id = randomUUID();
    const now = Date.now();
    const expiresAt = now + options.ttlSeconds * 1000;
    const checked = new CheckedUpload(source.body, config);
    await checked.readHead();

    const targets = this.chooseTargets(id, source.declaredLength ?? 0);
    const writeQuorum = Math.min(config.writeQuorum, targets.length);
    const meta = { fileId: id, createdAt: now, expiresAt };
    const written = await replicatedWrite(checked.chunks(), {
      key: id,
      meta,
      targets,
      writeQuorum,
      finish: () => checked.finish(),
    }).catch(async (error: unknown) => {
      const orphans = (error as { orphans?: string[] }).orphans ?? [];
      await metadata.queueBlobDeletes(orphans.map((nodeId) => ({ nodeId, key: id })), now);
      throw error;
    });

    const image = checked.image!;
    const deleteToken = randomBytes(24).toString('base64url');
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
      status: 'stored',
      replicasWanted: targets.length,
    };
    await metadata.insertFile(file, written.durable);
    void written.late.then(async (nodeIds) => {
      for (const nodeId of nodeIds) {
        // A file deleted before its last copy landed must not leave that copy behind.
        const recorded = await metadata.addReplica(id, nodeId);
        if (!recorded) await metadata.queueBlobDeletes([{ nodeId, key: id }], Date.now());
      }
      if (written.durable.length + nodeIds.length < targets.length) this.deps.repairer.wake();
    });
    return { file, replicas: written.durable.length, deleteToken };
  }

  private chooseTargets(key: string, size: number): ClusterNode[] {
    const { config, registry, placer } = this.deps;
    const count = Math.min(config.replicas, registry.live().length);
    const targets = placer.place(key, size, count);
    if (targets.length === 0) {
      throw new LegimError('NO_STORAGE_NODES', 'no storage node is up; start one with `legim node start --parent <gateway>`');
    }
    return targets;
  }
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
