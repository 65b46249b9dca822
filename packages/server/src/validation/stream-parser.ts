import type { FormatParser, SniffResult } from './types.js';

/** Looks at bytes from `pos`; returns where it stopped, or switches step (read/skip/rest) and returns. */
export type Scanner = (chunk: Buffer, pos: number) => number;

const EMPTY = Buffer.alloc(0);

/**
 * The chunk-boundary plumbing shared by the format parsers. A parser is
 * written as a chain of steps, each naming what it needs next:
 *
 * * `read(n, then)`: the next `n` bytes, gathered across chunks into one
 *   buffer (valid only during `then`);
 * * `skip(n, then, observe?)`: pass over `n` bytes without copying them
 *   (`observe` sees them, e.g. for a CRC);
 * * `scan(fn)`: hand raw chunks to `fn` (JPEG entropy data, scanned with
 *   `indexOf`);
 * * `rest()`: ignore everything that follows (trailing data).
 *
 * Every callback must set the next step. Memory is the largest `read`, which
 * each parser keeps small (64 KiB at most, for the AVIF `meta` box).
 */
export abstract class StreamParser implements FormatParser {
  #field: Buffer = Buffer.allocUnsafe(32);
  #have = 0;
  #want = 0;
  #onField: ((field: Buffer) => void) | undefined;
  #skipLeft = 0;
  #onSkipped: (() => void) | undefined;
  #observe: ((bytes: Buffer) => void) | undefined;
  #scanner: Scanner | undefined;
  #rest = false;
  #offset = 0;

  /** Absolute offset of the next byte to consume (exact inside `read`/`skip` callbacks). */
  protected get offset(): number {
    return this.#offset;
  }

  /** True once `rest()` was called: the image is complete, anything after is trailing data. */
  protected get complete(): boolean {
    return this.#rest;
  }

  /** True when the parser waits for a `read` and no byte of it arrived yet (a clean boundary). */
  protected get atBoundary(): boolean {
    return this.#want > 0 && this.#have === 0 && this.#skipLeft === 0 && !this.#rest;
  }

  push(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end) {
      if (this.#rest) {
        this.#offset += end - pos;
        return;
      }
      if (this.#skipLeft > 0) {
        const n = Math.min(this.#skipLeft, end - pos);
        this.#observe?.(chunk.subarray(pos, pos + n));
        pos += n;
        this.#offset += n;
        this.#skipLeft -= n;
        if (this.#skipLeft === 0) this.#take(this.#onSkipped)();
      } else if (this.#want > 0) {
        const n = Math.min(this.#want - this.#have, end - pos);
        chunk.copy(this.#field, this.#have, pos, pos + n);
        pos += n;
        this.#offset += n;
        this.#have += n;
        if (this.#have === this.#want) {
          const field = this.#field.subarray(0, this.#want);
          this.#want = 0;
          this.#have = 0;
          this.#take(this.#onField)(field);
        }
      } else if (this.#scanner) {
        const next = this.#scanner(chunk, pos);
        this.#offset += next - pos;
        pos = next;
      } else {
        throw new Error('internal error: image parser has no next step');
      }
    }
  }

  abstract finish(): void;

  protected read(n: number, then: (field: Buffer) => void): void {
    this.#reset();
    if (n === 0) return then(EMPTY);
    if (n > this.#field.length) this.#field = Buffer.allocUnsafe(n);
    this.#want = n;
    this.#onField = then;
  }

  protected skip(n: number, then: () => void, observe?: (bytes: Buffer) => void): void {
    this.#reset();
    if (n === 0) return then();
    this.#skipLeft = n;
    this.#onSkipped = then;
    this.#observe = observe;
  }

  protected scan(scanner: Scanner): void {
    this.#reset();
    this.#scanner = scanner;
  }

  protected rest(): void {
    this.#reset();
    this.#rest = true;
  }

  #reset(): void {
    this.#want = 0;
    this.#have = 0;
    this.#skipLeft = 0;
    this.#onField = undefined;
    this.#onSkipped = undefined;
    this.#observe = undefined;
    this.#scanner = undefined;
  }

  #take<T>(callback: T | undefined): T {
    if (callback === undefined) throw new Error('internal error: image parser step without a continuation');
    return callback;
  }
}

/** Compares `prefix` with `magic` placed at `at`: `more` while the prefix is too short to tell. */
export function sniffMagic(prefix: Buffer, magic: Buffer, at = 0): SniffResult {
  const available = Math.max(0, Math.min(prefix.length - at, magic.length));
  if (available === 0) return magic.length === 0 ? 'yes' : 'more';
  if (prefix.compare(magic, 0, available, at, at + available) !== 0) return 'no';
  return available === magic.length ? 'yes' : 'more';
}

/** Combines several signature tests that must all hold: `no` wins, then `more`. */
export function all(...results: SniffResult[]): SniffResult {
  if (results.includes('no')) return 'no';
  return results.includes('more') ? 'more' : 'yes';
}
