import { LegimError } from '@legim/sdk';
import { findServableFile } from '../download/file-lookup.js';
import type { FileBlobReader } from '../download/file-blob-reader.js';
import type { BlobAnswer } from '../download/blob-answer.js';
import { matchesEntityTag } from '../download/conditional-request.js';
import type { MetadataStore } from '../metadata/types.js';

/** The answer to a conditional request whose copy is current: headers, no body. */
export interface NotModified {
  status: 304;
  headers: Record<string, string>;
}

/** How soon a client should ask again for a variant still being made. */
const RETRY_AFTER_SECONDS = 2;

/** Serves previews (thumbnails, compressed copies): they never take a download. */
export class VariantService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly reader: FileBlobReader,
  ) {}

  /**
   * The variant's bytes, or `304` with no read at all when the client's copy
   * (`If-None-Match`) is the current one: previews are immutable.
   */
  async serve(id: string, name: string, ifNoneMatch?: string): Promise<BlobAnswer<200> | NotModified> {
    const now = Date.now();
    const file = await findServableFile(this.metadata, id, now);
    if (file.status === 'processing') {
      throw new LegimError('VARIANT_NOT_READY', `the ${name} variant is still being made; retry shortly`, {
        details: { retryAfter: RETRY_AFTER_SECONDS },
      });
    }
    if (file.status === 'failed') {
      throw new LegimError(
        'VARIANT_NOT_FOUND',
        `this image could not be processed (${file.statusReason ?? 'unknown reason'}); only the original is available`,
      );
    }
    const variants = await this.metadata.listVariants(file.id);
    const variant = variants.find((v) => v.name === name);
    if (!variant) {
      const names = variants.map((v) => v.name).join(', ');
      throw new LegimError('VARIANT_NOT_FOUND', `no variant "${name}"; this file has: ${names || 'none'}`);
    }
    const key = `${file.id}.${variant.name}`;
    // A preview may be cached briefly, never past the file's expiry.
    const maxAge = Math.max(0, Math.min(60, Math.floor((file.expiresAt - now) / 1000)));
    const headers = {
      ETag: `"${variant.sha256}"`,
      'Cache-Control': `private, max-age=${maxAge}`,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    };
    if (matchesEntityTag(ifNoneMatch, headers.ETag)) return { status: 304, headers };
    const blob = await this.reader.openVariant(file, variant, await this.metadata.replicaNodes(key));
    return {
      status: 200,
      headers: { ...headers, 'Content-Type': variant.contentType, 'Content-Length': variant.size },
      stream: { chunks: blob.chunks, abandoned: async () => blob.close() },
    };
  }
}
