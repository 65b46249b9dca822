import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Legim, type FileInfo, type UploadedFile } from '@legim/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, sha256 } from '../../../test-support/fixtures.js';
import { poisonPng } from '../../../test-support/poison-png.js';
import { hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

const PHOTO = 'photo-camera-exif-dune-1680x1050.jpg';
/** 20 MP: about a second of processing. */
const BIG = 'photo-large-bird-6028x3391.jpg';

/**
 * `upload --wait`, `info` and previews with the built binary against a real
 * cluster (an in-process gateway that makes the variants itself, and three
 * storage node processes).
 */
describe('previews from the command line', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  let sdk: Legim;
  let poisonPath: string;
  const legim = (args: string[]) => runCli(['--server', cluster.gateway.url, ...args], { env: box.env, cwd: box.dir });

  beforeAll(async () => {
    // One in-process worker: a file uploaded after big ones waits its turn (see the --wait-timeout test).
    cluster = await startCluster({ nodes: 3, gateway: { workers: '1', jobAttempts: '2' } });
    box = sandbox();
    sdk = new Legim({ url: cluster.gateway.url });
    poisonPath = join(box.dir, 'poison.png');
    writeFileSync(poisonPath, poisonPng());
  });

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  let photo: UploadedFile;

  it('upload --wait --json prints one file object with its variants, once processed', async () => {
    const result = await legim(['upload', fixture(PHOTO), '--wait', '--json', '--ttl', '10m']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    photo = JSON.parse(result.stdout) as UploadedFile;
    expect(photo).toMatchObject({
      status: 'ready',
      deleteToken: expect.any(String),
      width: 1680,
      height: 1050,
      variants: {
        thumb: { url: sdk.variantUrl(photo.id, 'thumb'), contentType: 'image/webp', width: 256, height: 160 },
        small: { width: 1024, height: 640 },
        webp: { width: 1680, height: 1050 },
      },
    });
    // Exactly the gateway's file object plus the delete token (the third replica may land meanwhile).
    const { deleteToken, ...rest } = photo;
    expect(deleteToken).not.toBe('');
    expect(rest).toEqual({ ...(await sdk.info(photo.id)), replicas: expect.any(Number) });
  });

  it('info shows the status and a table of the variants; --json is the file object', async () => {
    const human = await legim(['info', photo.url]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toBe('');
    expect(human.stdout).toMatch(/^\s+status\s+ready$/m);
    expect(human.stdout).toMatch(/^\s+variant\s+size\s+dimensions\s+url$/m);
    for (const [name, variant] of Object.entries(photo.variants)) {
      const row = new RegExp(`^\\s+${name}\\s+[\\d.]+ [kM]?B\\s+${variant.width}×${variant.height}\\s+(\\S+)$`, 'm');
      expect(human.stdout).toMatch(row);
      expect(row.exec(human.stdout)![1]).toBe(variant.url);
    }
    // thumb, small, webp: smallest first.
    expect([...human.stdout.matchAll(/^\s+(thumb|small|webp)\s/gm)].map((m) => m[1])).toEqual([
      'thumb',
      'small',
      'webp',
    ]);

    const json = await legim(['info', photo.id, '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ ...(await sdk.info(photo.id)), replicas: expect.any(Number) });
  });

  it('upload --wait on a terminal-less run prints the upload, then the previews, and nothing on stderr', async () => {
    const result = await legim(['upload', fixture(PHOTO), '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^✔ Uploaded photo-camera-exif-dune-1680x1050\.jpg /m);
    expect(result.stdout).toMatch(/delete token\s+\S+/);
    expect(result.stdout).toMatch(/^✔ Processed: 3 previews$/m);
    expect(result.stdout).toMatch(/^\s+thumb\s+.+\s+256×160\s+http:\/\/\S+\/variants\/thumb$/m);
    // No progress line (that is only for a terminal), so no carriage returns.
    expect(result.stdout + result.stderr).not.toMatch(/\r/);
  });

  it('upload --wait of an image that cannot be processed exits 0 with one yellow line; info says failed and why', async () => {
    const result = await legim(['upload', poisonPath, '--wait']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^✔ Uploaded poison\.png /m);
    expect(result.stdout).toMatch(/delete token\s+\S+/);
    expect(result.stdout).not.toMatch(/Processed/);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^⚠ no previews: the image could not be processed \(.+\); the original is stored/),
    ]);
    expect(hasStack(result.stderr)).toBe(false);

    const id = /^\s+id\s+([0-9a-f-]{36})$/m.exec(result.stdout)![1]!;
    const info: FileInfo = await sdk.info(id);
    expect(info.status).toBe('failed');
    const human = await legim(['info', id]);
    expect(human.stdout).toContain(`failed: ${info.statusReason}`);
    expect(human.stdout).not.toMatch(/variant\s+size/);

    const json = await legim(['upload', poisonPath, '--wait', '--json']);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', statusReason: expect.any(String), variants: {} });
    expect(lines(json.stderr)).toHaveLength(1);
  });

  it('upload --wait-timeout shorter than the processing still exits 0 with the file, still processing', async () => {
    // Two big photos ahead of it in the one worker's queue: well over a second.
    await sdk.upload(fixture(BIG), { ttl: '1m' });
    await sdk.upload(fixture(BIG), { ttl: '1m' });
    const result = await legim(['upload', fixture(PHOTO), '--wait-timeout', '1s', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const file = JSON.parse(result.stdout) as UploadedFile;
    expect(file).toMatchObject({ status: 'processing', deleteToken: expect.any(String) });
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(
        new RegExp(`^⚠ still processing after 1s, so no previews yet; see "legim info ${file.id}"`),
      ),
    ]);
  });

  it('refuses a malformed --wait-timeout before uploading anything', async () => {
    const before = await fileCount();
    const result = await legim(['upload', fixture(PHOTO), '--wait-timeout', 'soon']);
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toEqual([
      expect.stringMatching(/^✖ --wait-timeout: invalid duration "soon".*\(INVALID_OPTION\)$/),
    ]);
    expect(result.stdout).toBe('');
    expect(await fileCount()).toBe(before);
  });

  /** How many files the gateway holds. */
  async function fileCount(): Promise<number | null> {
    return (await new Legim({ url: cluster.gateway.url, apiKey: testAdminKey }).health()).files;
  }

  it('download --variant saves a verified preview without taking a download', async () => {
    const target = join(box.dir, 'thumb.webp');
    const human = await legim(['download', photo.url, '--variant', 'thumb', '-o', target]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^✔ Saved .*thumb\.webp .*; the thumb preview, no download used$/m);
    const bytes = readFileSync(target);
    expect(bytes.length).toBe(photo.variants.thumb!.size);
    expect(bytes.toString('latin1', 8, 12)).toBe('WEBP');
    expect(existsSync(`${target}.partial`)).toBe(false);

    // Without -o: ./<id>.<variant>.webp
    const json = await legim(['download', photo.id, '--variant', 'small', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const saved = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(saved).toMatchObject({
      id: photo.id,
      variant: 'small',
      path: join(box.dir, `${photo.id}.small.webp`),
      size: photo.variants.small!.size,
    });
    expect(saved.sha256).toBe(sha256(readFileSync(join(box.dir, `${photo.id}.small.webp`))));

    const missing = await legim(['download', photo.id, '--variant', 'avif', '-o', join(box.dir, 'x.avif')]);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([expect.stringMatching(/\(VARIANT_NOT_FOUND\)$/)]);
    expect(existsSync(join(box.dir, 'x.avif'))).toBe(false);

    expect((await sdk.info(photo.id)).downloadsLeft).toBe(photo.maxDownloads);
  });
});
