import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type TestCluster } from '../../../test-support/cluster.js';
import { fixture } from '../../../test-support/fixtures.js';
import { admin, call, findFiles } from './support.js';

interface CurlResult {
  status: number;
  body: string;
  /** curl's `-v` trace: what it sent (`> `) and received (`< `). */
  trace: string;
}

/** The real curl binary, as a shell user runs it (`stdin` piped in); `-w` appends the status after the body. */
async function curl(args: string[], stdin?: Buffer): Promise<CurlResult> {
  const child = spawn('curl', ['-sS', '-v', '-w', '\n%{http_code}', ...args]);
  let stdout = '';
  let trace = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (trace += chunk.toString()));
  child.stdin.end(stdin);
  await new Promise((resolve) => child.on('close', resolve));
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut), trace };
}

const PHOTO = fixture('photo-camera-exif-dune-1680x1050.jpg');
/** Over 1 MB, so curl asks `Expect: 100-continue` before sending it. */
const LARGE_PHOTO = fixture('photo-mountains-3264x2448.jpg');
const TOO_LARGE_PHOTO = fixture('photo-large-bird-6028x3391.jpg');

describe('curl-first uploads', () => {
  let cluster: TestCluster;
  let url: string;
  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, gateway: { maxUpload: '3mb', uploads: 'key' } });
    url = cluster.gateway.url;
  });
  afterAll(() => cluster?.close());

  const key = () => `Authorization: ${admin.authorization}`;
  const maxDownloads = async (id: string) => (await call(`${url}/v1/files/${id}`)).json.maxDownloads as number;

  it('stores `curl -T file host/` and answers the link first, then one fact a line', async () => {
    // curl puts the file's name after the slash: PUT /photo-camera-….jpg
    const up = await curl(['-H', key(), '-T', PHOTO, `${url}/`]);
    expect(up.trace).toMatch(/^> PUT \/photo-camera-exif-dune-1680x1050.jpg /m);
    expect(up.status).toBe(201);
    const [link, ...facts] = up.body.split('\n');
    expect(link).toMatch(new RegExp(`^${url}/d/[0-9a-f-]{36}$`));
    expect(facts.at(-1)).toBe('');
    expect(facts.slice(0, -1).every((line) => /^[a-z-]+: \S/.test(line))).toBe(true);
    const id = link!.split('/').at(-1)!;
    expect(up.body).toContain(`id: ${id}\n`);
    expect(up.body).toMatch(/\ndelete: curl -X DELETE '.+\?token=.+'\n/);
    expect((await call(`${url}/v1/files/${id}`)).json.title).toBe('photo-camera-exif-dune-1680x1050.jpg');
  });

  it('stores a body PUT to / itself (a pipe, or a script)', async () => {
    const up = await curl(['-H', key(), '-X', 'PUT', '--data-binary', `@${PHOTO}`, `${url}/`]);
    expect(up.trace).toMatch(/^> PUT \/ /m);
    expect(up.status).toBe(201);
    expect(up.body.split('\n')[0]).toMatch(new RegExp(`^${url}/d/[0-9a-f-]{36}$`));
  });

  it('takes the name in the path as the title, and limits from transfer.sh headers', async () => {
    const up = await curl(['-H', key(), '-H', 'Max-Downloads: 1', '-H', 'Max-Days: 2', '-T', PHOTO, `${url}/dune.jpg`]);
    expect(up.status).toBe(201);
    const id = up.body.split('\n')[0]!.split('/').at(-1)!;
    const info = (await call(`${url}/v1/files/${id}`)).json;
    expect(info).toMatchObject({ title: 'dune.jpg', maxDownloads: 1 });
    expect(Date.parse(info.expiresAt) - Date.parse(info.createdAt)).toBe(2 * 86_400_000);
  });

  it('stores a piped body (curl -T -)', async () => {
    const up = await curl(['-H', key(), '-T', '-', `${url}/piped.jpg`], readFileSync(PHOTO));
    expect(up.trace).toMatch(/^> Transfer-Encoding: chunked/im);
    expect(up.status).toBe(201);
    const id = up.body.split('\n')[0]!.split('/').at(-1)!;
    expect((await call(`${url}/v1/files/${id}`)).json.title).toBe('piped.jpg');
  });

  it('still answers 404 to a GET of a path that does not exist, and 405 to a method a path does not take', async () => {
    expect((await call(`${url}/typo`)).status).toBe(404);
    expect((await call(`${url}/v1/files`, { method: 'PUT' })).status).toBe(405);
  });

  it('answers JSON to a client that asks for it', async () => {
    const up = await curl([
      '-H',
      key(),
      '-H',
      'Accept: application/json',
      '-H',
      'Legim-Downloads: 2',
      '-T',
      PHOTO,
      `${url}/`,
    ]);
    expect(up.status).toBe(201);
    expect(JSON.parse(up.body)).toMatchObject({ maxDownloads: 2 });
    const asked = await curl(['-H', key(), '-H', 'Accept: text/plain', '-F', `file=@${PHOTO}`, `${url}/v1/files`]);
    expect(asked.body).toMatch(new RegExp(`^${url}/d/[0-9a-f-]{36}\n`));
  });

  it('refuses one option given twice with different values, and agrees when they match', async () => {
    const conflict = await curl(['-H', key(), '-H', 'Max-Downloads: 1', '-T', PHOTO, `${url}/?downloads=3`]);
    expect(conflict.status).toBe(400);
    expect(conflict.body).toContain('INVALID_OPTION');
    const days = await curl(['-H', key(), '-H', 'Max-Days: 1', '-H', 'Legim-TTL: 2d', '-T', PHOTO, `${url}/`]);
    expect(days.status).toBe(400);
    const same = await curl(['-H', key(), '-H', 'Max-Days: 1', '-T', PHOTO, `${url}/?ttl=24h`]);
    expect(same.status).toBe(201);
  });

  it('sends 100 Continue only to an upload it will read', async () => {
    const accepted = await curl(['-H', key(), '-T', LARGE_PHOTO, `${url}/large.jpg`]);
    expect(accepted.trace).toMatch(/^> Expect: 100-continue/im);
    expect(accepted.trace).toMatch(/^< HTTP\/1.1 100 Continue/im);
    expect(accepted.status).toBe(201);

    const tooLarge = await curl(['-H', key(), '-T', TOO_LARGE_PHOTO, `${url}/`]);
    expect(tooLarge.trace).toMatch(/^> Expect: 100-continue/im);
    expect(tooLarge.trace).not.toMatch(/100 Continue/);
    expect(tooLarge.status).toBe(413);

    const noKey = await curl(['-T', LARGE_PHOTO, `${url}/`]);
    expect(noKey.trace).not.toMatch(/100 Continue/);
    expect(noKey.status).toBe(401);

    const badOption = await curl(['-H', key(), '-H', 'Max-Days: soon', '-T', LARGE_PHOTO, `${url}/`]);
    expect(badOption.trace).not.toMatch(/100 Continue/);
    expect(badOption.status).toBe(400);
  });

  it('honours multipart fields sent after the file part', async () => {
    const up = await curl([
      '-H',
      key(),
      '-F',
      `file=@${PHOTO}`,
      '-F',
      'downloads=1',
      '-F',
      'title=late',
      `${url}/v1/files`,
    ]);
    expect(up.status).toBe(201);
    const { id } = JSON.parse(up.body) as { id: string };
    expect(await maxDownloads(id)).toBe(1);
    expect((await call(`${url}/v1/files/${id}`)).json.title).toBe('late');
    // The node's sidecar, from which a lost index is rebuilt, says the same.
    const sidecar = findFiles(cluster.nodes[0]!.dataDir, id).find((path) => path.endsWith('.json'))!;
    expect(JSON.parse(readFileSync(sidecar, 'utf8')).meta).toMatchObject({ maxDownloads: 1, title: 'late' });
  });

  it('refuses a form field given twice, an unknown field and a second file', async () => {
    const twice = await curl([
      '-H',
      key(),
      '-F',
      'downloads=1',
      '-F',
      `file=@${PHOTO}`,
      '-F',
      'downloads=2',
      `${url}/v1/files`,
    ]);
    expect(twice.status).toBe(400);
    expect(twice.body).toContain('given twice');
    const unknown = await curl(['-H', key(), '-F', `file=@${PHOTO}`, '-F', 'dowloads=1', `${url}/v1/files`]);
    expect(unknown.status).toBe(400);
    const twoFiles = await curl(['-H', key(), '-F', `file=@${PHOTO}`, '-F', `file=@${PHOTO}`, `${url}/v1/files`]);
    expect(twoFiles.status).toBe(400);
  });
});
