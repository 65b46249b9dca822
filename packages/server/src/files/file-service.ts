import type { IncomingMessage } from 'node:http';
import { LegimError } from '@legim/sdk';
import { findServableFile } from '../download/file-lookup.js';
import type { JobQueue } from '../jobs/index.js';
import { bearerToken, secretsEqual } from '../http/auth.js';
import type { FileRecord, MetadataStore, VariantRecord } from '../metadata/types.js';
import { hashToken } from '../upload/upload-service.js';

/** Metadata reads and owner deletes. */
export class FileService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly jobs: JobQueue,
    private readonly adminKey: string,
  ) {}

  async info(id: string): Promise<{ file: FileRecord; replicas: number; variants: VariantRecord[] }> {
    const file = await findServableFile(this.metadata, id, Date.now());
    const [replicas, variants] = await Promise.all([
      this.metadata.replicaNodes(file.id),
      this.metadata.listVariants(file.id),
    ]);
    return { file, replicas: replicas.length, variants };
  }

  /** Needs the file's delete token or the admin key (bearer header, or `?token=`). */
  async delete(id: string, req: IncomingMessage, queryToken: string | undefined): Promise<void> {
    const file = await findServableFile(this.metadata, id, Date.now()).catch((error: unknown) => {
      // Deleting something already used up is fine; deleting the unknown is not.
      if (LegimError.is(error) && error.code === 'DOWNLOADS_EXHAUSTED') return this.metadata.getFile(id.toLowerCase());
      throw error;
    });
    if (!file) throw new LegimError('FILE_NOT_FOUND', `no file with id ${JSON.stringify(id)}`);
    const token = bearerToken(req) ?? queryToken;
    if (token === undefined) {
      throw new LegimError('UNAUTHORIZED', 'send the delete token from the upload (Authorization: Bearer <token>)');
    }
    const allowed = secretsEqual(hashToken(token), file.deleteTokenHash) || secretsEqual(token, this.adminKey);
    if (!allowed) throw new LegimError('FORBIDDEN', 'this token does not allow deleting this file');
    await this.metadata.scheduleDeletion(file.id, Date.now(), 'deleted');
    await this.jobs.enqueue({ type: 'delete', fileId: file.id });
  }
}
