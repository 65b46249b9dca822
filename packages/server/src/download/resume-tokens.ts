import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FileRecord } from '../metadata/types.js';

/**
 * Tokens that let the client of a download resume it (a `Range` request)
 * without taking another download. Each is an expiry and an HMAC of the file
 * and that expiry under the cluster secret, so every gateway checks it with
 * nothing stored, and only the client that took the download holds one.
 */
export class ResumeTokens {
  constructor(
    private readonly secret: string,
    private readonly windowMs: number,
  ) {}

  issue(file: FileRecord, now: number): string {
    const until = now + this.windowMs;
    return `${until.toString(36)}.${this.mac(file, until)}`;
  }

  isValid(token: string, file: FileRecord, now: number): boolean {
    const match = /^([0-9a-z]{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return false;
    const until = Number.parseInt(match[1]!, 36);
    if (!(until > now)) return false;
    const expected = Buffer.from(this.mac(file, until));
    const given = Buffer.from(match[2]!);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(file: FileRecord, until: number): string {
    return createHmac('sha256', this.secret).update(`resume:${file.id}:${file.sha256}:${until}`).digest('base64url');
  }
}
