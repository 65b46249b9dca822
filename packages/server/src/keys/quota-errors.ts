import { LegimError } from '@legim/sdk';
import type { StoredQuota } from '../metadata/types.js';
import type { KeyUsage } from './api-key.js';

/**
 * Throws the quota error a key would overrun with one more file of `size`
 * bytes. Both the admission before an upload and the index's check when it
 * records the file use it, so the two answer alike.
 */
export function checkStoredQuota(quota: StoredQuota, usage: KeyUsage, size: number): void {
  if (quota.maxFiles !== undefined && usage.files + 1 > quota.maxFiles) {
    throw new LegimError(
      'QUOTA_FILES_EXCEEDED',
      `this key may hold ${quota.maxFiles} file(s) at once and holds ${usage.files}; delete some or wait until they expire`,
      { details: { limit: quota.maxFiles, used: usage.files } },
    );
  }
  if (quota.maxBytes !== undefined && usage.bytes + size > quota.maxBytes) {
    throw new LegimError(
      'QUOTA_BYTES_EXCEEDED',
      `this key may hold ${quota.maxBytes} bytes and holds ${usage.bytes}; ${size} more would exceed it: delete some files or wait until they expire`,
      { details: { limit: quota.maxBytes, used: usage.bytes } },
    );
  }
}
