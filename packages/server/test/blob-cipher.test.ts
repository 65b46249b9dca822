import { createHash, randomBytes } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import {
  BlobSealer,
  SEAL_CHUNK_BYTES,
  SEAL_HEADER_BYTES,
  SEAL_TAG_BYTES,
  openSealed,
  sealBuffer,
  sealedSize,
  sealedStart,
  type BlobSecret,
} from '../src/encryption/blob-cipher.js';
import { MasterKeys } from '../src/encryption/master-keys.js';

const FILE_ID = '0b9f4a8e-2f7c-4d1e-9a55-3c2b1d0e8f7a';
const secret = (overrides: Partial<BlobSecret> = {}): BlobSecret => ({
  dataKey: Buffer.alloc(32, 7),
  fileId: FILE_ID,
  blob: 'original',
  ...overrides,
});

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of source) parts.push(part);
  return Buffer.concat(parts);
}

/** Feeds `data` in uneven pieces, as a socket would. */
async function* pieces(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < data.length; at += size) yield data.subarray(at, at + size);
}

async function seal(data: Buffer, piece = 7919): Promise<{ sealed: Buffer; sha256: string; size: number }> {
  const sealer = new BlobSealer(secret());
  const sealed = await collect(sealer.seal(pieces(data, piece)));
  return { sealed, sha256: sealer.sha256(), size: sealer.size };
}

/** What a node would serve for a read starting at `offset`, in pieces of any size. */
function fromOffset(sealed: Buffer, offset: number, piece = 5003): AsyncGenerator<Buffer> {
  return pieces(sealed.subarray(offset), piece);
}

function open(sealed: Buffer, plainSize: number, start = 0, end?: number, key = secret()): Promise<Buffer> {
  const at = sealedStart(start);
  const header = at.offset === 0 ? undefined : sealed.subarray(0, SEAL_HEADER_BYTES);
  return collect(openSealed(fromOffset(sealed, at.offset), key, { plainSize, start, end }, header));
}

async function expectCorrupt(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(LegimError.is(error) && error.code).toBe('BLOB_CORRUPT');
}

const C = SEAL_CHUNK_BYTES;
const SIZES = [0, 1, 15, 16, 17, C - 1, C, C + 1, 2 * C - 1, 2 * C, 2 * C + 1, 3 * C + 12345];

describe('BlobCipher: chunked AES-256-GCM', () => {
  it.each(SIZES)('round-trips %i bytes, with the size and digest the nodes verify', async (size) => {
    const plain = randomBytes(size);
    const { sealed, sha256, size: sealedBytes } = await seal(plain);
    expect(sealed.length).toBe(sealedSize(size));
    expect(sealedBytes).toBe(sealed.length);
    expect(sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
    expect((await open(sealed, size)).equals(plain)).toBe(true);
  });

  it('fed one byte at a time, seals the same plaintext', async () => {
    const plain = randomBytes(C + 3);
    const { sealed } = await seal(plain, 1);
    expect((await open(sealed, plain.length)).equals(plain)).toBe(true);
  });

  it('never stores the plaintext, and two writes of the same bytes differ (fresh salt)', async () => {
    const plain = randomBytes(3 * C);
    const [a, b] = [await seal(plain), await seal(plain)];
    expect(a.sealed.includes(plain.subarray(C, C + 64))).toBe(false);
    expect(a.sha256).not.toBe(b.sha256);
  });

  it('opens any range, reading only from the chunk that holds its first byte', async () => {
    const plain = randomBytes(3 * C + 999);
    const { sealed } = await seal(plain);
    const ranges: [number, number | undefined][] = [
      [0, 0],
      [1000, 5000],
      [C - 1, C],
      [C, undefined],
      [C + 5, 2 * C + 7],
      [2 * C, 2 * C],
      [3 * C + 998, undefined],
      [plain.length - 1, plain.length - 1],
      [12345, plain.length - 1],
    ];
    for (const [start, end] of ranges) {
      const got = await open(sealed, plain.length, start, end);
      expect(got.equals(plain.subarray(start, end === undefined ? undefined : end + 1))).toBe(true);
    }
    expect(sealedStart(2 * C + 5)).toEqual({ offset: SEAL_HEADER_BYTES + 2 * (C + SEAL_TAG_BYTES), chunk: 2, skip: 5 });
  });

  it('detects a flipped byte anywhere: header, body, tag', async () => {
    const plain = randomBytes(2 * C + 10);
    const { sealed } = await seal(plain);
    for (const at of [0, 9, SEAL_HEADER_BYTES + 3, SEAL_HEADER_BYTES + C + 2, sealed.length - 1]) {
      const tampered = Buffer.from(sealed);
      tampered[at]! ^= 0x01;
      await expectCorrupt(open(tampered, plain.length));
    }
  });

  it('detects truncation, at a chunk boundary too, and reordered chunks', async () => {
    const plain = randomBytes(3 * C);
    const { sealed } = await seal(plain);
    const chunk = (i: number) =>
      sealed.subarray(SEAL_HEADER_BYTES + i * (C + 16), SEAL_HEADER_BYTES + (i + 1) * (C + 16));
    const header = sealed.subarray(0, SEAL_HEADER_BYTES);
    // Two whole chunks, the second not final: opened as a 2-chunk blob it must fail.
    await expectCorrupt(open(Buffer.concat([header, chunk(0), chunk(1)]), 2 * C));
    await expectCorrupt(open(Buffer.concat([header, chunk(0), chunk(1)]), 3 * C));
    await expectCorrupt(open(Buffer.concat([header, chunk(1), chunk(0), chunk(2)]), 3 * C));
    await expectCorrupt(open(sealed.subarray(0, sealed.length - 1), 3 * C));
  });

  it('refuses the wrong key, another file and another blob name', async () => {
    const plain = randomBytes(100);
    const { sealed } = await seal(plain);
    await expectCorrupt(open(sealed, 100, 0, undefined, secret({ dataKey: Buffer.alloc(32, 8) })));
    await expectCorrupt(open(sealed, 100, 0, undefined, secret({ fileId: FILE_ID.replace('0b', '0c') })));
    await expectCorrupt(open(sealed, 100, 0, undefined, secret({ blob: 'thumb' })));
  });

  it('sealBuffer matches the streaming sealer', async () => {
    const plain = randomBytes(C + 1);
    const { sealed, sha256 } = await sealBuffer(plain, secret());
    expect(sha256).toBe(createHash('sha256').update(sealed).digest('hex'));
    expect((await open(sealed, plain.length)).equals(plain)).toBe(true);
  });
});

describe('MasterKeys', () => {
  const line = () => MasterKeys.generateLine();

  it('wraps with the current key and unwraps with any key it holds', () => {
    const [oldLine, newLine] = [line(), line()];
    const before = MasterKeys.parse(oldLine, 'test');
    const dataKey = randomBytes(32);
    const wrapped = before.wrap(FILE_ID, dataKey);
    expect(wrapped.kid).toBe(oldLine.split(':')[0]);
    const rotated = MasterKeys.parse(`${newLine}\n# the old one, until rewrapped\n${oldLine}\n`, 'test');
    expect(rotated.current.kid).toBe(newLine.split(':')[0]);
    expect(rotated.unwrap(FILE_ID, wrapped).equals(dataKey)).toBe(true);
    expect(rotated.wrap(FILE_ID, dataKey).kid).toBe(rotated.current.kid);
  });

  it('a wrapped key opens only for its file, and a missing master key is said so', () => {
    const keys = MasterKeys.parse(line(), 'test');
    const wrapped = keys.wrap(FILE_ID, randomBytes(32));
    expect(() => keys.unwrap(FILE_ID.replace('0b', '0c'), wrapped)).toThrow(/does not open/);
    expect(() => MasterKeys.parse(line(), 'other').unwrap(FILE_ID, wrapped)).toThrow(
      expect.objectContaining({ code: 'MASTER_KEY_MISSING' }),
    );
  });

  it('takes a bare base64 key (its kid is its fingerprint) and refuses malformed ones clearly', () => {
    const bare = randomBytes(32).toString('base64');
    expect(MasterKeys.parse(bare, 'env').current.kid).toMatch(/^[0-9a-f]{12}$/);
    for (const bad of ['', '# nothing', 'c2hvcnQ=', 'a b:' + bare, `k1:${bare}\nk1:${bare}`, bare.slice(1)]) {
      expect(() => MasterKeys.parse(bad, 'LEGIM_MASTER_KEY')).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringContaining('LEGIM_MASTER_KEY') }),
      );
    }
  });
});
