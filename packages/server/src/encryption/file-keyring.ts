import { randomBytes } from 'node:crypto';
import type { FileKeyIndex, WrappedKey } from '../metadata/types.js';
import type { MasterKeys } from './master-keys.js';

/** Where a reader of encrypted blobs gets a file's data key: the index with the master keys, or a gateway. */
export interface FileKeySource {
  /** The file's data key; undefined once destroyed (or for a file stored in clear, or gone). */
  dataKey(fileId: string): Promise<Buffer | undefined>;
}

/**
 * Makes, wraps and unwraps the files' data keys. Keys are read from the
 * index at each use and never cached, so a key destroyed in the index
 * cannot be used by any gateway or worker from that instant on.
 */
export class FileKeyring implements FileKeySource {
  constructor(
    private readonly index: Pick<FileKeyIndex, 'wrappedKey'>,
    readonly masterKeys: MasterKeys,
  ) {}

  /** A fresh data key for a new file, and its wrapped form for the index. */
  newKey(fileId: string): { dataKey: Buffer; wrapped: WrappedKey } {
    const dataKey = randomBytes(32);
    return { dataKey, wrapped: this.masterKeys.wrap(fileId, dataKey) };
  }

  async dataKey(fileId: string): Promise<Buffer | undefined> {
    const wrapped = await this.index.wrappedKey(fileId);
    return wrapped && this.masterKeys.unwrap(fileId, wrapped);
  }
}
