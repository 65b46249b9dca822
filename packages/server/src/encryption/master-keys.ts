import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { LegimError } from '@legim/sdk';
import type { WrappedKey } from '../metadata/types.js';

export interface MasterKey {
  kid: string;
  key: Buffer;
}

const KID = /^[A-Za-z0-9._-]{1,64}$/;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The master keys that wrap the files' data keys: the first is current
 * (new keys are wrapped with it, and older ones are rewrapped to it); the
 * others are kept only to unwrap keys not rewrapped yet. Each data key is
 * wrapped with AES-256-GCM, its file id in the AAD, so a wrapped key copied
 * onto another file's row does not open.
 */
export class MasterKeys {
  private readonly byKid: Map<string, Buffer>;

  private constructor(readonly keys: readonly MasterKey[]) {
    this.byKid = new Map(keys.map((key) => [key.kid, key.key]));
  }

  /**
   * One key a line (or separated by commas): `base64` of 32 bytes, or
   * `kid:base64`; `#` starts a comment. Without a kid, the kid is the key's
   * fingerprint. `source` names where the text came from, for the error.
   */
  static parse(text: string, source: string): MasterKeys {
    const keys: MasterKey[] = [];
    const entries = text.split('\n').flatMap((line) => line.replace(/#.*/, '').split(','));
    for (const [index, raw] of entries.entries()) {
      const line = raw.trim();
      if (line === '') continue;
      const key = parseLine(line, `${source}, entry ${index + 1}`);
      if (keys.some((other) => other.kid === key.kid)) {
        throw invalid(`${source} names the master key ${key.kid} twice`);
      }
      keys.push(key);
    }
    if (keys.length === 0) throw invalid(`${source} holds no master key`);
    return new MasterKeys(keys);
  }

  /** A new master key, as a line of a master key file. */
  static generateLine(): string {
    const key = randomBytes(32);
    return `${fingerprint(key)}:${key.toString('base64')}`;
  }

  get current(): MasterKey {
    return this.keys[0]!;
  }

  wrap(fileId: string, dataKey: Buffer): WrappedKey {
    const { kid, key } = this.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(aad(fileId, kid));
    const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
    return { kid, wrapped: sealed.toString('base64') };
  }

  unwrap(fileId: string, wrapped: WrappedKey): Buffer {
    const key = this.byKid.get(wrapped.kid);
    if (!key) {
      throw new LegimError(
        'MASTER_KEY_MISSING',
        `the key of this file is wrapped by master key ${wrapped.kid}, which this gateway does not have; ` +
          'add it back to --master-key-file (after the current one) until every key is rewrapped',
      );
    }
    const sealed = Buffer.from(wrapped.wrapped, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES));
    decipher.setAAD(aad(fileId, wrapped.kid));
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (error) {
      throw new LegimError(
        'BLOB_CORRUPT',
        `the wrapped key of ${fileId} does not open with master key ${wrapped.kid} (changed, or another key under that id)`,
        { cause: error },
      );
    }
  }
}

function parseLine(line: string, where: string): MasterKey {
  const colon = line.indexOf(':');
  const kid = colon < 0 ? undefined : line.slice(0, colon).trim();
  const encoded = (colon < 0 ? line : line.slice(colon + 1)).trim();
  if (kid !== undefined && !KID.test(kid)) {
    throw invalid(`${where}: the key id "${kid.slice(0, 40)}" must be 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips what is not base64: only a key that encodes back to the same text is taken.
  if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw invalid(`${where}: a master key is the base64 of exactly 32 random bytes (\`openssl rand -base64 32\`)`);
  }
  return { kid: kid ?? fingerprint(key), key };
}

/** A key's id when none is given: the start of its SHA-256, which names it without revealing it. */
function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

function aad(fileId: string, kid: string): Buffer {
  return Buffer.from(`legim file key v1\0${fileId}\0${kid}`, 'utf8');
}

function invalid(message: string): LegimError {
  return new LegimError('INVALID_OPTION', message);
}
