import { LegimError } from '@legim/sdk';
import { findServableFile } from '../download/file-lookup.js';
import type { FileBlobReader } from '../download/file-blob-reader.js';
import type { BlobAnswer, HeadAnswer } from '../download/blob-answer.js';
import { requestedRange } from '../download/byte-range.js';
import { isNotModified, type Preconditions } from '../download/conditional-request.js';
import type { FileRecord, MetadataStore, VariantRecord } from '../metadata/types.js';
import { previewCacheControl, type PreviewCaching } from './preview-caching.js';
import { NEGOTIATED_PREVIEW, negotiateFullSize } from './preview-format.js';

/** The answer to a conditional request whose copy is current: headers, no body. */
export interface NotModified {
  status: 304;
  headers: Record<string, string>;
}

/** What a preview request asks, as the edge reads it from the request. */
export interface PreviewRequest {
  id: string;
  /** A variant's name, or `full` for the best full-size encoding the client takes. */
  name: string;
  /** HEAD: headers alone, and no replica is read. */
  head: boolean;
  preconditions: Preconditions;
  range?: string;
  ifRange?: string;
  accept?: string;
}

/** How soon a client should ask again for a variant still being made. */
const RETRY_AFTER_SECONDS = 2;

/** Serves previews (thumbnails, compressed copies): they never take a download. */
export class VariantService {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly reader: FileBlobReader,
    private readonly caching: PreviewCaching,
  ) {}

  /**
   * The variant's bytes (or the asked range of them), or `304` with no read
   * at all when the client's copy is the current one: previews are
   * immutable, and cacheable until the file expires.
   */
  async serve(request: PreviewRequest): Promise<BlobAnswer | HeadAnswer | NotModified> {
    const now = Date.now();
    const file = await findServableFile(this.metadata, request.id, now);
    const variant = await this.variantOf(file, request);
    const validators = { etag: `"${variant.sha256}"`, lastModified: file.createdAt };
    const headers = {
      ETag: validators.etag,
      'Last-Modified': new Date(validators.lastModified).toUTCString(),
      'Cache-Control': previewCacheControl(this.caching, file.expiresAt, now),
      ...(request.name === NEGOTIATED_PREVIEW && { Vary: 'Accept' }),
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    };
    if (isNotModified(request.preconditions, validators)) return { status: 304, headers };
    const range = requestedRange(request, variant.size, validators);
    const whole = { ...headers, 'Content-Type': variant.contentType, 'Accept-Ranges': 'bytes' };
    if (request.head) return { status: 200, headers: { ...whole, 'Content-Length': variant.size } };
    const key = `${file.id}.${variant.name}`;
    const nodeIds = await this.metadata.replicaNodes(key);
    const blob = await this.reader.openVariant(file, variant, nodeIds, range);
    const stream = { chunks: blob.chunks, abandoned: async () => blob.close() };
    if (!range) return { status: 200, headers: { ...whole, 'Content-Length': variant.size }, stream };
    const rangeHeaders = {
      'Content-Length': range.end - range.start + 1,
      'Content-Range': `bytes ${range.start}-${range.end}/${variant.size}`,
    };
    return { status: 206, headers: { ...whole, ...rangeHeaders }, stream };
  }

  private async variantOf(file: FileRecord, request: PreviewRequest): Promise<VariantRecord> {
    const { name } = request;
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
    const variant =
      name === NEGOTIATED_PREVIEW ? negotiateFullSize(request.accept, variants) : variants.find((v) => v.name === name);
    if (!variant) {
      const names = variants.map((v) => v.name).join(', ');
      throw new LegimError('VARIANT_NOT_FOUND', `no variant "${name}"; this file has: ${names || 'none'}`);
    }
    return variant;
  }
}
