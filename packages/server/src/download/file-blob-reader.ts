import { LegimError } from '@legim/sdk';
import { openSealed, SEAL_HEADER_BYTES, sealedStart, type BlobSecret } from '../encryption/blob-cipher.js';
import type { FileKeySource } from '../encryption/file-keyring.js';
import type { FileRecord, MetadataStore, SealedCopy, VariantRecord } from '../metadata/types.js';
import { keyGone } from './file-lookup.js';
import type { OpenedBlob, ReplicaReader } from './replica-reader.js';

/** A sealed blob being read, and its header when the read started past it. */
interface SealedRead {
  read: OpenedBlob;
  header: Buffer | undefined;
}

/** Plaintext bytes to read, both ends included; from the first and to the last without. */
export interface PlainRange {
  start?: number;
  end?: number;
}

/** One blob of a file, as the index describes it. */
interface FileBlob {
  fileId: string;
  /** The node key: the file id, or `<file id>.<variant>`. */
  key: string;
  /** `original`, or the variant's name: what the blob's key is derived for. */
  name: string;
  /** Plaintext size. */
  size: number;
  sealed: SealedCopy | undefined;
  nodeIds: string[];
}

/**
 * Reads a file's original or variant as plaintext: straight from the
 * replicas for a file stored in clear; for an encrypted one, the chunks
 * that hold the wanted bytes are read from a replica (a Range read, with
 * the `ReplicaReader`'s failover) and opened here, with the file's data key
 * read from the index at that moment. The nodes never see a key.
 */
export class FileBlobReader {
  constructor(
    private readonly replicas: ReplicaReader,
    private readonly keys: FileKeySource | undefined,
    private readonly metadata: Pick<MetadataStore, 'getTombstone'>,
  ) {}

  /** The original, or the bytes of `range` in it. */
  openOriginal(file: FileRecord, nodeIds: string[], range: PlainRange = {}): Promise<OpenedBlob> {
    const blob = { fileId: file.id, key: file.id, name: 'original', size: file.size, sealed: file.sealed, nodeIds };
    return this.open(blob, range);
  }

  /** A variant, or the bytes of `range` in it. */
  openVariant(
    file: FileRecord,
    variant: VariantRecord,
    nodeIds: string[],
    range: PlainRange = {},
  ): Promise<OpenedBlob> {
    const key = `${file.id}.${variant.name}`;
    return this.open(
      { fileId: file.id, key, name: variant.name, size: variant.size, sealed: variant.sealed, nodeIds },
      range,
    );
  }

  private async open(blob: FileBlob, range: PlainRange): Promise<OpenedBlob> {
    const { key, nodeIds, sealed } = blob;
    const start = range.start ?? 0;
    if (!sealed) return this.replicas.open({ key, size: blob.size, nodeIds, start, end: range.end });
    const secret = await this.secret(blob);
    const reading = { current: await this.openSealedAt(blob, sealed, nodeIds, start) };
    const close = () => reading.current.read.close();
    const plain = this.opened(blob, sealed, secret, start, reading);
    const wanted = range.end === undefined ? undefined : range.end - start + 1;
    return {
      // The chunks past the range's end are never read: the read is closed once its last byte is out.
      chunks: wanted === undefined ? plain : firstBytes(plain, wanted, close),
      close,
      source: () => reading.current.read.source(),
    };
  }

  /**
   * The plaintext from `start`. A copy that fails authentication (bit rot the
   * node's scrubber has not found yet, or a changed byte) is left for the
   * next replica, from the chunk that failed: a download is served whole or
   * cut, never with altered bytes. Only when every copy fails does it throw.
   */
  private async *opened(
    blob: FileBlob,
    sealed: SealedCopy,
    secret: BlobSecret,
    start: number,
    reading: { current: SealedRead },
  ): AsyncGenerator<Buffer> {
    let nodeIds = blob.nodeIds;
    let offset = start;
    for (;;) {
      const { read, header } = reading.current;
      try {
        for await (const piece of openSealed(read.chunks, secret, { plainSize: blob.size, start: offset }, header)) {
          offset += piece.length;
          yield piece;
        }
        return;
      } catch (error) {
        if (!LegimError.is(error) || error.code !== 'BLOB_CORRUPT') throw error;
        read.close();
        nodeIds = nodeIds.filter((nodeId) => nodeId !== read.source());
        if (nodeIds.length === 0) throw error;
        reading.current = await this.openSealedAt(blob, sealed, nodeIds, offset).catch(() => Promise.reject(error));
      }
    }
  }

  /** A sealed read from the chunk holding plaintext byte `start`, with the header when that is not the first. */
  private async openSealedAt(
    blob: FileBlob,
    sealed: SealedCopy,
    nodeIds: string[],
    start: number,
  ): Promise<SealedRead> {
    const at = sealedStart(start);
    const header = at.offset === 0 ? undefined : await this.header(blob, sealed, nodeIds);
    const read = await this.replicas.open({ key: blob.key, size: sealed.size, nodeIds, start: at.offset });
    return { read, header };
  }

  private async secret(blob: FileBlob): Promise<BlobSecret> {
    if (!this.keys) {
      throw new LegimError(
        'MASTER_KEY_MISSING',
        'this file is stored encrypted and this gateway has no master key: give it --master-key-file or LEGIM_MASTER_KEY',
      );
    }
    const dataKey = await this.keys.dataKey(blob.fileId);
    if (!dataKey) throw await keyGone(this.metadata, blob.fileId);
    return { dataKey, fileId: blob.fileId, blob: blob.name };
  }

  /** The blob's header alone, for a read that starts past its first chunk. */
  private async header(blob: FileBlob, sealed: SealedCopy, nodeIds: string[]): Promise<Buffer> {
    const opened = await this.replicas.open({
      key: blob.key,
      size: sealed.size,
      nodeIds,
      start: 0,
      end: SEAL_HEADER_BYTES - 1,
    });
    const parts: Buffer[] = [];
    for await (const part of opened.chunks) parts.push(part);
    return Buffer.concat(parts);
  }
}

/** The first `length` bytes of `chunks`; then `done`, which lets the rest go unread. */
async function* firstBytes(chunks: AsyncIterable<Buffer>, length: number, done: () => void): AsyncGenerator<Buffer> {
  let left = length;
  try {
    for await (const chunk of chunks) {
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      left -= part.length;
      yield part;
      if (left === 0) return;
    }
  } finally {
    if (left === 0) done();
  }
}
