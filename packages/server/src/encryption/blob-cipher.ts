import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { LegimError } from '@legim/sdk';

/**
 * The sealed form of a blob, as the storage nodes hold it:
 *
 *   header (32 bytes): "LGMC" · version 1 · log2(chunk size) · 0 0 · 24-byte random salt
 *   then the plaintext in chunks of 64 KiB (the last one shorter, or empty for
 *   an empty blob), each sealed with AES-256-GCM and followed by its 16-byte tag.
 *
 * Each write draws a fresh salt, and the chunk key is HKDF-SHA256(file key,
 * salt, "legim blob v1" + file id + blob name): a rewritten variant never
 * reuses a (key, nonce) pair, and a blob moved under another file or name
 * fails to open. The nonce is the chunk index; the AAD is the header, the
 * chunk index and whether the chunk is the last, so a reordered, truncated
 * or extended blob fails too. Chunks make Range reads cheap: a plaintext
 * range maps to whole chunks, read from the node as a byte range.
 */
export const SEAL_HEADER_BYTES = 32;
export const SEAL_CHUNK_BYTES = 64 * 1024;
export const SEAL_TAG_BYTES = 16;
const SEALED_CHUNK_BYTES = SEAL_CHUNK_BYTES + SEAL_TAG_BYTES;
const MAGIC = Buffer.from('LGMC', 'latin1');
const VERSION = 1;
const CHUNK_LOG2 = 16;
const SALT_BYTES = 24;

/** What opens one blob: its file's data key, and which blob of that file it is. */
export interface BlobSecret {
  /** The file's 32-byte data key. */
  dataKey: Buffer;
  fileId: string;
  /** `original`, or the variant's name. */
  blob: string;
}

/** Chunks a blob of `plainSize` bytes is sealed in (an empty blob is one empty chunk). */
export function chunkCount(plainSize: number): number {
  return Math.max(1, Math.ceil(plainSize / SEAL_CHUNK_BYTES));
}

/** Bytes the nodes store for a blob of `plainSize` bytes. */
export function sealedSize(plainSize: number): number {
  return SEAL_HEADER_BYTES + plainSize + chunkCount(plainSize) * SEAL_TAG_BYTES;
}

/** Seals one blob as it streams: the header, then each chunk once the next byte shows it is not the last. */
export class BlobSealer {
  readonly header: Buffer;
  private readonly key: Buffer;
  private readonly digest = createHash('sha256');
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private index = 0;
  private sealedBytes = 0;
  private finalDigest: string | undefined;

  constructor(secret: BlobSecret) {
    const salt = randomBytes(SALT_BYTES);
    this.header = Buffer.concat([MAGIC, Buffer.from([VERSION, CHUNK_LOG2, 0, 0]), salt]);
    this.key = chunkKey(secret, salt);
  }

  /** The sealed bytes of `source`, header first; `sha256()` and `size` are known once it ends. */
  async *seal(source: AsyncIterable<Buffer> | Iterable<Buffer>): AsyncGenerator<Buffer> {
    yield this.count(this.header);
    for await (const chunk of source) yield* this.push(chunk);
    yield* this.sealChunk(this.pendingBytes, true);
  }

  /** SHA-256 (hex) of every sealed byte, what the nodes verify and scrub against; once the source ended. */
  sha256(): string {
    this.finalDigest ??= this.digest.digest('hex');
    return this.finalDigest;
  }

  get size(): number {
    return this.sealedBytes;
  }

  private *push(chunk: Buffer): Generator<Buffer> {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    // Strictly more than a chunk: only then is the chunk known not to be the last.
    while (this.pendingBytes > SEAL_CHUNK_BYTES) yield* this.sealChunk(SEAL_CHUNK_BYTES, false);
  }

  /**
   * Seals the next `bytes` held, piece by piece as they came (no copy into
   * one buffer: copies and their garbage were a third of the sealing time).
   */
  private *sealChunk(bytes: number, final: boolean): Generator<Buffer> {
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce(this.index));
    cipher.setAAD(chunkAad(this.header, this.index, final));
    this.index++;
    this.pendingBytes -= bytes;
    for (let left = bytes; left > 0;) {
      const piece = this.pending[0]!;
      const part = piece.length <= left ? piece : piece.subarray(0, left);
      if (part === piece) this.pending.shift();
      else this.pending[0] = piece.subarray(left);
      left -= part.length;
      yield this.count(cipher.update(part));
    }
    cipher.final();
    yield this.count(cipher.getAuthTag());
  }

  private count(bytes: Buffer): Buffer {
    this.digest.update(bytes);
    this.sealedBytes += bytes.length;
    return bytes;
  }
}

/** Seals bytes held in memory (a variant sharp made); with their SHA-256. */
export async function sealBuffer(data: Buffer, secret: BlobSecret): Promise<{ sealed: Buffer; sha256: string }> {
  const sealer = new BlobSealer(secret);
  const parts: Buffer[] = [];
  for await (const part of sealer.seal([data])) parts.push(part);
  return { sealed: Buffer.concat(parts), sha256: sealer.sha256() };
}

/** Where to start reading the sealed blob for the plaintext from `plainStart` on. */
export interface SealedStart {
  /** The first sealed byte to read (a chunk's start, or 0 for the header). */
  offset: number;
  /** The chunk the read starts at. */
  chunk: number;
  /** Plaintext bytes of that chunk before `plainStart`, to drop. */
  skip: number;
}

export function sealedStart(plainStart: number): SealedStart {
  const chunk = Math.floor(plainStart / SEAL_CHUNK_BYTES);
  return {
    offset: chunk === 0 ? 0 : SEAL_HEADER_BYTES + chunk * SEALED_CHUNK_BYTES,
    chunk,
    skip: plainStart - chunk * SEAL_CHUNK_BYTES,
  };
}

export interface OpenRange {
  /** The blob's plaintext size, from the index (which chunk is the last follows from it). */
  plainSize: number;
  /** First plaintext byte wanted. */
  start: number;
  /** Last plaintext byte wanted (inclusive); the end of the blob without. */
  end?: number;
}

/**
 * Opens sealed bytes read from `sealedStart(range.start).offset` on: the
 * header comes first when reading from 0, else `header` must be given (read
 * apart). Yields plaintext from `range.start` to `range.end`, never holding
 * more than one sealed chunk; throws `BLOB_CORRUPT` at the first chunk that
 * fails authentication, or when the bytes stop short.
 */
export async function* openSealed(
  sealed: AsyncIterable<Buffer>,
  secret: BlobSecret,
  range: OpenRange,
  header?: Buffer,
): AsyncGenerator<Buffer> {
  const start = sealedStart(range.start);
  const end = range.end ?? range.plainSize - 1;
  const lastChunk = chunkCount(range.plainSize) - 1;
  const wantedLast = Math.min(lastChunk, Math.floor(Math.max(end, 0) / SEAL_CHUNK_BYTES));
  const source = sealed[Symbol.asyncIterator]();
  const reader = new ExactReader(source);
  try {
    const head = header ?? Buffer.concat(await reader.read(SEAL_HEADER_BYTES));
    const key = chunkKey(secret, parseHeader(head));
    for (let index = start.chunk; index <= wantedLast; index++) {
      const plainBytes = index < lastChunk ? SEAL_CHUNK_BYTES : range.plainSize - lastChunk * SEAL_CHUNK_BYTES;
      const sealedChunk = await reader.read(plainBytes + SEAL_TAG_BYTES);
      // Released only once the whole chunk is authenticated: no unverified byte ever leaves.
      const plain = openChunk(sealedChunk, plainBytes, key, head, index, index === lastChunk);
      let from = index === start.chunk ? start.skip : 0;
      let to = Math.min(plainBytes, end - index * SEAL_CHUNK_BYTES + 1);
      for (const piece of plain) {
        if (to > 0 && from < piece.length) yield piece.subarray(from, Math.min(piece.length, to));
        from = Math.max(0, from - piece.length);
        to -= piece.length;
      }
    }
  } finally {
    // A range that ends before the blob does, or a consumer that stops early, lets the source go.
    await source.return?.();
  }
}

/** One sealed chunk, as the pieces it came in (no copy into one buffer), opened into the pieces of its plaintext. */
function openChunk(
  sealed: Buffer[],
  plainBytes: number,
  key: Buffer,
  header: Buffer,
  index: number,
  final: boolean,
): Buffer[] {
  const decipher = createDecipheriv('aes-256-gcm', key, nonce(index));
  decipher.setAAD(chunkAad(header, index, final));
  const plain: Buffer[] = [];
  const tag: Buffer[] = [];
  let body = plainBytes;
  for (const piece of sealed) {
    const bodyPart = piece.subarray(0, body);
    if (bodyPart.length > 0) plain.push(decipher.update(bodyPart));
    if (bodyPart.length < piece.length) tag.push(piece.subarray(bodyPart.length));
    body -= bodyPart.length;
  }
  decipher.setAuthTag(tag.length === 1 ? tag[0]! : Buffer.concat(tag));
  try {
    // GCM is a stream mode: final() only checks the tag, and adds no byte.
    decipher.final();
    return plain;
  } catch (error) {
    throw corrupt(`chunk ${index} failed authentication (a changed, moved or reordered byte, or the wrong key)`, error);
  }
}

function parseHeader(header: Buffer): Buffer {
  if (!header.subarray(0, 4).equals(MAGIC)) throw corrupt('the blob is not sealed by Legim (no header)');
  if (header[4] !== VERSION || header[5] !== CHUNK_LOG2) {
    throw corrupt(`the blob is sealed in an unknown format (version ${header[4]}, chunk 2^${header[5]})`);
  }
  return header.subarray(8, 8 + SALT_BYTES);
}

function chunkKey(secret: BlobSecret, salt: Buffer): Buffer {
  const info = Buffer.from(`legim blob v1\0${secret.fileId}\0${secret.blob}`, 'utf8');
  return Buffer.from(hkdfSync('sha256', secret.dataKey, salt, info, 32));
}

function nonce(index: number): Buffer {
  const bytes = Buffer.alloc(12);
  bytes.writeBigUInt64BE(BigInt(index), 4);
  return bytes;
}

function chunkAad(header: Buffer, index: number, final: boolean): Buffer {
  const tail = Buffer.alloc(9);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail[8] = final ? 1 : 0;
  return Buffer.concat([header, tail]);
}

function corrupt(message: string, cause?: unknown): LegimError {
  return new LegimError('BLOB_CORRUPT', `the stored copy cannot be opened: ${message}`, { cause });
}

/**
 * Reads exact byte counts from a stream of arbitrary chunks, as the pieces
 * they came in (split where a count ends), holding at most what one read asks for.
 */
class ExactReader {
  private held: Buffer | undefined;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  async read(bytes: number): Promise<Buffer[]> {
    const parts: Buffer[] = [];
    for (let left = bytes; left > 0;) {
      const piece = this.held ?? (await this.next(left));
      this.held = piece.length > left ? piece.subarray(left) : undefined;
      parts.push(piece.subarray(0, left));
      left -= Math.min(left, piece.length);
    }
    return parts;
  }

  private async next(missing: number): Promise<Buffer> {
    const next = await this.source.next();
    if (next.done) throw corrupt(`the stored copy ends ${missing} bytes short of a chunk (truncated)`);
    return next.value;
  }
}
