import { LegimError, formatDuration } from '@legim/sdk';
import type { KeyStore } from '../keys/key-store.js';
import type { Principal } from '../keys/principal.js';
import { checkStoredQuota } from '../keys/quota-errors.js';
import type { StoredQuota } from '../metadata/types.js';

/** How large an upload may grow, and the error once it does. */
export interface SizeLimit {
  bytes: number;
  error(): LegimError;
}

/** What an admitted upload must still respect while it streams and when it is recorded. */
export interface UploadAdmission {
  /** The key the file will belong to; null for anonymous uploads and the admin key. */
  keyId: string | null;
  size: SizeLimit;
  /** Enforced by the index in the transaction that records the file. */
  stored: StoredQuota | undefined;
}

/**
 * A key's quotas, checked before an upload's body is read: the options it
 * asks for (ttl, downloads), its declared size, and what the key's files
 * hold now. The files and bytes held are checked again, exactly, when the
 * index records the file; the size again as the bytes arrive.
 */
export class QuotaCheck {
  constructor(
    private readonly keys: KeyStore,
    /** The gateway's own largest upload (`--max-upload`). */
    private readonly maxUploadBytes: number,
  ) {}

  async admit(
    principal: Principal,
    options: { ttlSeconds: number; maxDownloads: number },
    declaredSize: number | undefined,
    now: number,
  ): Promise<UploadAdmission> {
    const size = this.sizeLimit(principal);
    if (declaredSize !== undefined && declaredSize > size.bytes) throw size.error();
    if (principal.kind !== 'key') return { keyId: null, size, stored: undefined };
    this.checkOptions(principal, options);
    const { id, quotas } = principal.key;
    const stored = storedQuota(quotas);
    if (stored) checkStoredQuota(stored, await this.keys.usage(id, now), declaredSize ?? 0);
    return { keyId: id, size, stored };
  }

  /** The ttl and downloads the upload asks for, against the key's quotas. */
  checkOptions(principal: Principal, options: { ttlSeconds: number; maxDownloads: number }): void {
    if (principal.kind !== 'key') return;
    const { quotas } = principal.key;
    if (quotas.maxTtlSeconds !== undefined && options.ttlSeconds > quotas.maxTtlSeconds) {
      throw new LegimError(
        'QUOTA_TTL_EXCEEDED',
        `this key may keep files for at most ${formatDuration(quotas.maxTtlSeconds)}; ask for a shorter ttl`,
        { details: { limit: quotas.maxTtlSeconds } },
      );
    }
    if (quotas.maxDownloads !== undefined && options.maxDownloads > quotas.maxDownloads) {
      throw new LegimError(
        'QUOTA_DOWNLOADS_EXCEEDED',
        `this key may give a file at most ${quotas.maxDownloads} download(s); ask for fewer`,
        { details: { limit: quotas.maxDownloads } },
      );
    }
  }

  /** The server's largest upload, or the key's when that is smaller. */
  private sizeLimit(principal: Principal): SizeLimit {
    const keyLimit = principal.kind === 'key' ? principal.key.quotas.maxFileBytes : undefined;
    if (keyLimit !== undefined && keyLimit < this.maxUploadBytes) {
      return { bytes: keyLimit, error: () => fileTooLarge(keyLimit) };
    }
    return { bytes: this.maxUploadBytes, error: () => payloadTooLarge(this.maxUploadBytes) };
  }
}

function storedQuota(quotas: { maxFiles?: number; maxBytes?: number }): StoredQuota | undefined {
  if (quotas.maxFiles === undefined && quotas.maxBytes === undefined) return undefined;
  return {
    ...(quotas.maxFiles !== undefined && { maxFiles: quotas.maxFiles }),
    ...(quotas.maxBytes !== undefined && { maxBytes: quotas.maxBytes }),
  };
}

function payloadTooLarge(limit: number): LegimError {
  return new LegimError('PAYLOAD_TOO_LARGE', `the upload is larger than this server's limit of ${limit} bytes`);
}

function fileTooLarge(limit: number): LegimError {
  return new LegimError('QUOTA_FILE_TOO_LARGE', `this key may upload files of at most ${limit} bytes`, {
    details: { limit },
  });
}
