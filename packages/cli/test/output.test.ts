import { stripVTControlCharacters } from 'node:util';
import type { ApiKey, FileInfo } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import {
  createElapsedLine,
  fileView,
  formatQuotas,
  formatStatus,
  keysTable,
  processedView,
  variantsTable,
} from '../src/output.js';

// eslint-disable-next-line no-control-regex
const plain = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');

const ID = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';
const variant = (name: string, width: number, height: number, size: number) => ({
  url: `http://127.0.0.1:3333/v1/files/${ID}/variants/${name}`,
  contentType: 'image/webp',
  width,
  height,
  size,
});

const file: FileInfo = {
  id: ID,
  title: 'holiday',
  size: 1021283,
  contentType: 'image/jpeg',
  width: 1680,
  height: 1050,
  sha256: '9c1e'.repeat(16),
  maxDownloads: 3,
  downloadsLeft: 3,
  createdAt: '2026-11-23T13:05:00.000Z',
  expiresAt: '2026-11-23T14:05:00.000Z',
  url: `http://127.0.0.1:3333/d/${ID}`,
  shareUrl: `http://127.0.0.1:3333/s/${ID}`,
  replicas: 3,
  // Deliberately out of order: the table sorts them.
  variants: {
    webp: variant('webp', 1680, 1050, 160442),
    thumb: variant('thumb', 256, 160, 9214),
    small: variant('small', 1024, 640, 80321),
  },
  status: 'ready',
};

describe('variants in the human output', () => {
  it('a table: name, size (right-aligned), dimensions, url; thumb, small, webp first', () => {
    expect(plain(variantsTable(file.variants)).split('\n')).toEqual([
      '  variant    size  dimensions  url',
      `  thumb    9.2 kB  256×160     ${file.variants.thumb!.url}`,
      `  small     80 kB  1024×640    ${file.variants.small!.url}`,
      `  webp     160 kB  1680×1050   ${file.variants.webp!.url}`,
    ]);
    expect(variantsTable({})).toBe('');
    expect(
      plain(variantsTable({ avif: variant('avif', 10, 10, 10), ...file.variants }))
        .split('\n')
        .at(-1),
    ).toMatch(/^ {2}avif /);
  });

  it('info: the status row, then the table; no table while processing or after a failure', () => {
    const now = new Date('2026-11-23T13:10:00.000Z');
    const ready = plain(fileView(file, now));
    expect(ready).toMatch(/^ {2}status +ready$/m);
    expect(ready.indexOf('sha256')).toBeLessThan(ready.indexOf('variant '));
    expect(ready).toMatch(/^ {2}thumb +9\.2 kB +256×160 +http/m);

    const processing = plain(fileView({ ...file, status: 'processing', variants: {} }, now));
    expect(processing).toMatch(/^ {2}status +processing \(previews not made yet\)$/m);
    expect(processing).not.toMatch(/variant/);

    const failed = plain(fileView({ ...file, status: 'failed', statusReason: 'corrupt pixels', variants: {} }, now));
    expect(failed).toMatch(/^ {2}status +failed: corrupt pixels \(the original is fine\)$/m);
    expect(plain(formatStatus({ status: 'failed' }))).toMatch(/^failed: no reason given/);
  });

  it('upload --wait: "Processed: 3 previews" and the table', () => {
    const lines = plain(processedView(file)).split('\n');
    expect(lines[0]).toBe('✔ Processed: 3 previews');
    expect(lines).toHaveLength(5);
  });
});

describe('createElapsedLine', () => {
  function fakeStream(isTTY: boolean) {
    const writes: string[] = [];
    return { stream: { isTTY, write: (chunk: string) => (writes.push(chunk), true) }, writes };
  }

  it('redraws "<label> <seconds>s" in place on a terminal, without a spinner, and erases itself', async () => {
    const { stream, writes } = fakeStream(true);
    const line = createElapsedLine('making previews…', stream as unknown as NodeJS.WriteStream, 20);
    await new Promise((resolve) => setTimeout(resolve, 70));
    line.done();
    line.done();
    expect(writes.length).toBeGreaterThanOrEqual(3);
    for (const write of writes.slice(0, -1)) expect(plain(write)).toBe('\r\x1b[2Kmaking previews… 0s');
    expect(writes.at(-1)).toBe('\r\x1b[2K');
    const count = writes.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toHaveLength(count);
  });

  it('draws nothing when stderr is not a terminal', async () => {
    const { stream, writes } = fakeStream(false);
    const line = createElapsedLine('making previews…', stream as unknown as NodeJS.WriteStream, 10);
    await new Promise((resolve) => setTimeout(resolve, 30));
    line.done();
    expect(writes).toEqual([]);
  });
});

describe('API keys in the human output', () => {
  const key = (overrides: Partial<ApiKey>): ApiKey => ({
    id: '3f9a0c1d2e4b',
    name: 'photo-app',
    scopes: ['upload', 'read'],
    quotas: {},
    createdAt: '2026-12-07T21:00:00.000Z',
    revokedAt: null,
    usage: { files: 2, bytes: 2_500_000 },
    ...overrides,
  });

  it('names every quota a key has, or none', () => {
    expect(formatQuotas({})).toBe('none');
    expect(
      formatQuotas({ maxBytes: 10e9, maxFiles: 100, maxFileBytes: 20e6, maxTtlSeconds: 3600, maxDownloads: 5 }),
    ).toBe('10 GB, 100 files, files ≤ 20 MB, ttl ≤ 1h, ≤ 5 downloads');
  });

  it('lists keys one per line with their state and what they hold, and says how to make one', () => {
    const lines = stripVTControlCharacters(
      keysTable([key({}), key({ id: '000000000001', name: 'old', revokedAt: '2026-12-07T22:00:00.000Z' })]),
    ).split('\n');
    expect(lines[0]).toMatch(/^id\s+name\s+scopes\s+state\s+holds\s+quotas$/);
    expect(lines[1]).toMatch(/^3f9a0c1d2e4b\s+photo-app\s+upload,read\s+active\s+2 files, 2.5 MB\s+none$/);
    expect(lines[2]).toMatch(/^000000000001\s+old\s+upload,read\s+revoked/);
    expect(stripVTControlCharacters(keysTable([]))).toMatch(/no API keys; make one with ".* keys create <name>"/);
  });
});
