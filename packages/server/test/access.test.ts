import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessGate, type UploadMode } from '../src/access/access-gate.js';
import { openIndexEngine } from '../src/backends/open-backends.js';
import type { IndexEngine } from '../src/backends/index-engine.js';
import { KeyService } from '../src/keys/key-service.js';
import { parseNewKey } from '../src/keys/new-key.js';
import { QuotaCheck } from '../src/quota/quota-check.js';
import { RateLimiter } from '../src/rate-limit/rate-limiter.js';
import type { RateLimits } from '../src/rate-limit/rate-limits.js';
import { fileRecord } from './index-contract/fixtures.js';

const ADMIN = 'admin-key-0123456789abcdef';
const OFF: RateLimits = {
  upload: { perKey: undefined, perAddress: undefined },
  download: { perKey: undefined, perAddress: undefined },
  authFailures: undefined,
};
const bearer = (secret: string) => `Bearer ${secret}`;

// The services on the embedded engine: keys, their quotas, and the gate every request goes through.
describe('API keys, quotas and the access gate', () => {
  let dir: string;
  let engine: IndexEngine;
  let keys: KeyService;
  const gate = (uploads: UploadMode, limits: RateLimits = OFF) =>
    new AccessGate(keys, new RateLimiter(engine.buckets, limits), uploads);
  const create = (body: unknown) => keys.create(parseNewKey(body), Date.now());

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'legim-access-'));
    engine = await openIndexEngine({ kind: 'sqlite', path: join(dir, 'metadata.db') });
    keys = new KeyService(engine.keys, ADMIN);
  });
  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a secret once, stores only its hash, and knows the key by it until it is revoked', async () => {
    const created = await create({ name: 'app', scopes: ['upload', 'read'], quotas: { maxFiles: 10 } });
    expect(created.secret).toMatch(new RegExp(`^lgm_${created.key.id}_`));
    const stored = await engine.keys.getKey(created.key.id);
    expect(JSON.stringify(stored)).not.toContain(created.secret.slice(17));
    expect(await keys.authenticate(bearer(created.secret))).toEqual({ kind: 'key', key: created.key });
    expect(await keys.authenticate(bearer(ADMIN))).toEqual({ kind: 'admin' });
    expect(await keys.authenticate(undefined)).toEqual({ kind: 'anonymous' });

    const forged = created.secret.slice(0, -4) + 'AAAA';
    await expect(keys.authenticate(bearer(forged))).rejects.toMatchObject({ code: 'UNAUTHORIZED', statusCode: 401 });
    await expect(keys.authenticate('Basic abc')).rejects.toMatchObject({ code: 'UNAUTHORIZED' });

    const [listed] = await keys.list(Date.now());
    expect(listed).toEqual({ key: created.key, usage: { files: 0, bytes: 0 } });
    await keys.revoke(created.key.id, Date.now());
    await expect(keys.authenticate(bearer(created.secret))).rejects.toMatchObject({
      code: 'KEY_REVOKED',
      statusCode: 401,
    });
    await expect(keys.revoke('000000000000', Date.now())).rejects.toMatchObject({ code: 'KEY_NOT_FOUND' });
  });

  it('refuses a revoked key on another gateway of the same index at once', async () => {
    const other = await openIndexEngine({ kind: 'sqlite', path: join(dir, 'metadata.db') });
    try {
      const created = await create({ name: 'shared' });
      const elsewhere = new KeyService(other.keys, ADMIN);
      expect((await elsewhere.authenticate(bearer(created.secret))).kind).toBe('key');
      await keys.revoke(created.key.id, Date.now());
      await expect(elsewhere.authenticate(bearer(created.secret))).rejects.toMatchObject({ code: 'KEY_REVOKED' });
    } finally {
      await other.close();
    }
  });

  it('validates key requests and refuses what it does not know', () => {
    expect(parseNewKey({ name: ' app ' })).toEqual({ name: 'app', scopes: ['upload'], quotas: {} });
    expect(parseNewKey({ name: 'x', scopes: ['read', 'upload', 'read'] }).scopes).toEqual(['upload', 'read']);
    for (const body of [
      null,
      { name: '' },
      { name: 'x'.repeat(101) },
      { name: 'x', scopes: [] },
      { name: 'x', scopes: ['delete'] },
      { name: 'x', quotas: { maxFiles: 0 } },
      { name: 'x', quotas: { maxFiles: 1.5 } },
      { name: 'x', quotas: { maxSpeed: 1 } },
      { name: 'x', owner: 'me' },
    ]) {
      expect(() => parseNewKey(body), JSON.stringify(body)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
    }
  });

  it('lets anyone upload when open, only keys with the upload scope when not; the admin always', async () => {
    const uploader = await create({ name: 'uploader' });
    const reader = await create({ name: 'reader', scopes: ['read'] });
    const request = (authorization: string | undefined) => ({
      action: 'upload' as const,
      authorization,
      address: '10.0.0.1',
    });

    expect((await gate('open').admit(request(undefined))).principal.kind).toBe('anonymous');
    await expect(gate('key').admit(request(undefined))).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
      statusCode: 401,
    });
    expect((await gate('key').admit(request(bearer(uploader.secret)))).principal.kind).toBe('key');
    // A key that is sent must allow uploading, open or not.
    for (const mode of ['open', 'key'] as const) {
      await expect(gate(mode).admit(request(bearer(reader.secret)))).rejects.toMatchObject({
        code: 'MISSING_SCOPE',
        statusCode: 403,
      });
    }
    expect((await gate('key').admit(request(bearer(ADMIN)))).principal.kind).toBe('admin');
    expect((await gate('key').admit({ ...request(bearer(reader.secret)), action: 'read' })).principal.kind).toBe('key');
    await expect(gate('key').admit({ ...request(bearer(uploader.secret)), action: 'admin' })).rejects.toMatchObject({
      code: 'MISSING_SCOPE',
    });
    // Downloads need no key.
    expect((await gate('key').admit({ ...request(undefined), action: 'download' })).principal.kind).toBe('anonymous');
  });

  it('limits uploads per key and per address, with what the RateLimit headers report; never the admin', async () => {
    const limits: RateLimits = {
      ...OFF,
      upload: { perKey: { limit: 2, periodMs: 60_000 }, perAddress: { limit: 3, periodMs: 60_000 } },
    };
    const [a, b] = [await create({ name: 'a' }), await create({ name: 'b' })];
    const g = gate('key', limits);
    const upload = (secret: string, address: string) =>
      g.admit({ action: 'upload', authorization: bearer(secret), address });

    expect((await upload(a.secret, '10.0.0.1')).rate).toMatchObject({ allowed: true, limit: 2, remaining: 1 });
    await upload(a.secret, '10.0.0.2');
    await expect(upload(a.secret, '10.0.0.3')).rejects.toMatchObject({
      code: 'RATE_LIMITED',
      statusCode: 429,
      details: { retryAfter: 30, rateLimit: { limit: 2, remaining: 0, reset: 60 } },
    });
    // Key b from one address: the address's bucket (3) ends it after the key's own would.
    await upload(b.secret, '10.0.0.9');
    await upload(b.secret, '10.0.0.9');
    expect((await upload(a.secret, '10.0.0.9').catch((error: unknown) => error)) as object).toMatchObject({
      code: 'RATE_LIMITED',
    });
    for (let i = 0; i < 5; i++) await g.admit({ action: 'upload', authorization: bearer(ADMIN), address: '10.0.0.9' });
  });

  it('refuses an address that failed to authenticate too often, even with a good key then', async () => {
    const good = await create({ name: 'good' });
    const g = gate('key', { ...OFF, authFailures: { limit: 3, periodMs: 60_000 } });
    const attempt = (authorization: string, address = '192.0.2.7') =>
      g.admit({ action: 'upload', authorization, address });
    for (let i = 0; i < 3; i++) await expect(attempt(bearer('guess'))).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    await expect(attempt(bearer(good.secret))).rejects.toMatchObject({ code: 'RATE_LIMITED', statusCode: 429 });
    expect((await attempt(bearer(good.secret), '192.0.2.8')).principal.kind).toBe('key');
  });

  describe('QuotaCheck', () => {
    const quotas = () => new QuotaCheck(engine.keys, 1000);
    const options = { ttlSeconds: 3600, maxDownloads: 3 };

    it('admits anonymous uploads and the admin under the server limit alone', async () => {
      const admission = await quotas().admit({ kind: 'anonymous' }, options, 10, Date.now());
      expect(admission).toMatchObject({ keyId: null, size: { bytes: 1000 }, stored: undefined });
      expect(admission.size.error()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', statusCode: 413 });
      await expect(quotas().admit({ kind: 'admin' }, options, 1001, Date.now())).rejects.toMatchObject({
        code: 'PAYLOAD_TOO_LARGE',
      });
    });

    it('checks a key’s size, ttl and downloads before the body is read, each with its own code', async () => {
      const { key } = await create({
        name: 'q',
        quotas: { maxFileBytes: 500, maxTtlSeconds: 60, maxDownloads: 2 },
      });
      const principal = { kind: 'key' as const, key };
      const small = { ttlSeconds: 60, maxDownloads: 2 };
      const admission = await quotas().admit(principal, small, undefined, Date.now());
      expect(admission).toMatchObject({ keyId: key.id, size: { bytes: 500 }, stored: undefined });
      expect(admission.size.error()).toMatchObject({ code: 'QUOTA_FILE_TOO_LARGE', statusCode: 413 });
      await expect(quotas().admit(principal, small, 501, Date.now())).rejects.toMatchObject({
        code: 'QUOTA_FILE_TOO_LARGE',
        statusCode: 413,
      });
      await expect(quotas().admit(principal, { ...small, ttlSeconds: 61 }, 1, Date.now())).rejects.toMatchObject({
        code: 'QUOTA_TTL_EXCEEDED',
        statusCode: 403,
        message: 'this key may keep files for at most 1m; ask for a shorter ttl',
      });
      await expect(quotas().admit(principal, { ...small, maxDownloads: 3 }, 1, Date.now())).rejects.toMatchObject({
        code: 'QUOTA_DOWNLOADS_EXCEEDED',
        statusCode: 403,
      });
    });

    it('checks what the key holds against its files and bytes quotas, and hands them to the index', async () => {
      const { key } = await create({ name: 'q', quotas: { maxFiles: 2, maxBytes: 300 } });
      const principal = { kind: 'key' as const, key };
      const admission = await quotas().admit(principal, options, 100, Date.now());
      expect(admission.stored).toEqual({ maxFiles: 2, maxBytes: 300 });
      await engine.metadata.insertFile(
        fileRecord({ keyId: key.id, size: 250 }),
        { durable: [], pending: [] },
        Date.now(),
      );
      await expect(quotas().admit(principal, options, 100, Date.now())).rejects.toMatchObject({
        code: 'QUOTA_BYTES_EXCEEDED',
      });
      await engine.metadata.insertFile(
        fileRecord({ keyId: key.id, size: 10 }),
        { durable: [], pending: [] },
        Date.now(),
      );
      await expect(quotas().admit(principal, options, undefined, Date.now())).rejects.toMatchObject({
        code: 'QUOTA_FILES_EXCEEDED',
      });
    });
  });
});
