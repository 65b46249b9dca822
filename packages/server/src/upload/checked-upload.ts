import { createHash } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import type { GatewayConfig } from '../config.js';
import type { SizeLimit } from '../quota/quota-check.js';
import { ImageInspector, type ImageHeader, type InspectedImage } from '../validation/index.js';

/**
 * Bytes read at most before choosing nodes: 64 KiB hold the header of almost
 * any image, but the sidecars carry the dimensions (so the index can be
 * rebuilt from them), so a header behind a large EXIF block is waited for,
 * up to this bound on what one upload holds in memory.
 */
const HEAD_BYTES = 1024 * 1024;

/**
 * The upload body with its checks applied to every chunk: size limit,
 * image structure and the SHA-256 of what was actually received.
 */
export class CheckedUpload {
  private readonly iterator: AsyncIterator<Buffer>;
  private readonly inspector: ImageInspector;
  private readonly hash = createHash('sha256');
  private readonly head: Buffer[] = [];
  private bytes = 0;
  image: InspectedImage | undefined;
  sha256: string | undefined;

  constructor(
    body: AsyncIterable<Buffer>,
    config: Pick<GatewayConfig, 'maxPixels'>,
    /** The server's largest upload, or the uploading key's when that is smaller. */
    private readonly limit: SizeLimit,
  ) {
    this.iterator = body[Symbol.asyncIterator]();
    this.inspector = new ImageInspector({ maxPixels: config.maxPixels });
  }

  /** Reads until the image header is known, so a non-image is refused before any node is contacted. */
  async readHead(): Promise<void> {
    let headBytes = 0;
    while (!this.inspector.header() && headBytes < HEAD_BYTES) {
      const next = await this.read();
      if (next.done) break;
      this.take(next.value);
      this.head.push(next.value);
      headBytes += next.value.length;
    }
    if (this.bytes === 0) throw new LegimError('EMPTY_BODY', 'the upload is empty; send the image bytes as the body');
  }

  /** Type and dimensions, once the leading bytes told them. */
  header(): ImageHeader | undefined {
    return this.inspector.header();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    yield* this.head;
    this.head.length = 0;
    for (let next = await this.read(); !next.done; next = await this.read()) {
      this.take(next.value);
      yield next.value;
    }
  }

  finish(): string {
    this.image = this.inspector.finish();
    this.sha256 = this.hash.digest('hex');
    return this.sha256;
  }

  /** The next chunk; a client that hangs up mid-upload is an expected failure, not a bug. */
  private async read(): Promise<IteratorResult<Buffer>> {
    try {
      return await this.iterator.next();
    } catch (error) {
      throw new LegimError('BAD_REQUEST', 'the upload was cut off before its end; nothing was stored', {
        cause: error,
      });
    }
  }

  private take(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit.bytes) throw this.limit.error();
    this.inspector.push(chunk);
    this.hash.update(chunk);
  }
}
