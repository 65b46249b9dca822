import { Readable } from 'node:stream';

export interface OpenedBlob {
  /** The selected bytes; destroy it if it is not consumed, to close the file. */
  stream: Readable;
  /** The whole blob's size, whatever the range. */
  size: number;
  sha256: string;
  /** First and last byte (inclusive) in `stream`; `end` is -1 for an empty blob. */
  start: number;
  end: number;
  /**
   * The selected bytes already in memory, when there were few enough to read
   * at once (`maxBufferedRead`); `stream` then yields these same bytes.
   * Lets a server answer with a single write.
   */
  bytes?: Buffer;
}

/** A small read, already in memory; its stream is only made if someone asks for it. */
export class BufferedBlob implements OpenedBlob {
  #stream: Readable | undefined;

  constructor(
    readonly bytes: Buffer,
    readonly size: number,
    readonly sha256: string,
    readonly start: number,
    readonly end: number,
  ) {}

  get stream(): Readable {
    this.#stream ??= Readable.from([this.bytes], { objectMode: false });
    return this.#stream;
  }
}

export function shortReadError(path: string, expected: number): Error {
  return new Error(`${path} has fewer bytes on disk than the ${expected} recorded in its sidecar`);
}
