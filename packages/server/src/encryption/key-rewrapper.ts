import type { Logger } from '@legim/node';
import { LegimError } from '@legim/sdk';
import type { FileKeyIndex } from '../metadata/types.js';
import type { MasterKeys } from './master-keys.js';

const PAGE = 500;

/**
 * Master key rotation: rewraps, page by page, every live file key that
 * another master key than the current one wrapped. Only the wrapped key
 * changes (the data key, hence every stored byte, stays as it is); each
 * rewrap is conditional on the row still holding what was read, so a key
 * destroyed or rewrapped meanwhile by another gateway stays so.
 */
export class KeyRewrapper {
  private after = '';

  constructor(
    private readonly index: Pick<FileKeyIndex, 'keysNotWrappedBy' | 'rewrapFileKey'>,
    private readonly keys: MasterKeys,
    private readonly logger: Logger,
  ) {}

  /** A whole pass over the keys to rewrap, a page at a time; the number rewrapped. */
  async rewrapAll(): Promise<number> {
    let rewrapped = 0;
    do rewrapped += await this.rewrapPage();
    while (this.after !== '');
    return rewrapped;
  }

  private async rewrapPage(): Promise<number> {
    const page = await this.index.keysNotWrappedBy(this.keys.current.kid, this.after, PAGE);
    this.after = page.length < PAGE ? '' : page.at(-1)!.fileId;
    let rewrapped = 0;
    for (const { fileId, key } of page) {
      try {
        const dataKey = this.keys.unwrap(fileId, key);
        if (await this.index.rewrapFileKey(fileId, key, this.keys.wrap(fileId, dataKey))) rewrapped++;
      } catch (error) {
        // A key under a master key this gateway lacks stays for a gateway that has it (or for the operator).
        if (!LegimError.is(error) || error.code !== 'MASTER_KEY_MISSING') throw error;
        this.logger.warn({ fileId, kid: key.kid }, `cannot rewrap the key of ${fileId}: ${error.message}`);
      }
    }
    if (rewrapped > 0)
      this.logger.info({ rewrapped }, `rewrapped ${rewrapped} file keys under ${this.keys.current.kid}`);
    return rewrapped;
  }
}
