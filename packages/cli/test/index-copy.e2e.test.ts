import { join } from 'node:path';
import { parseGatewayConfig, startGateway, type RunningGateway } from '@legim/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { freshDatabase, type TestDatabase } from '../../../test-support/test-database.js';
import { hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

const PHOTOS = ['photo-small-flower-1600x1203.jpg', 'jpeg-progressive.jpg', 'png-alpha.png'];

interface Uploaded {
  id: string;
  sha: string;
}

async function upload(url: string, name: string, downloads: number): Promise<Uploaded> {
  const bytes = fixtureBytes(name);
  const res = await fetch(`${url}/v1/files?downloads=${downloads}&ttl=1h`, {
    method: 'POST',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  });
  expect(res.status).toBe(201);
  return { id: ((await res.json()) as { id: string }).id, sha: sha256(bytes) };
}

async function download(url: string, id: string): Promise<{ status: number; sha: string }> {
  const res = await fetch(`${url}/d/${id}`);
  return { status: res.status, sha: sha256(Buffer.from(await res.arrayBuffer())) };
}

/**
 * A one-host user grows into many hosts: the gateway's SQLite index is
 * copied into PostgreSQL with the gateway stopped, and a gateway started on
 * PostgreSQL serves every file on with its counts, copies and previews.
 */
describe('legim index copy: SQLite to PostgreSQL', { timeout: 120_000 }, () => {
  let box: Sandbox;
  let cluster: TestCluster;
  let target: TestDatabase;
  let moved: RunningGateway | undefined;
  const files: Uploaded[] = [];

  beforeAll(async () => {
    box = sandbox();
    target = freshDatabase('postgres');
    cluster = await startCluster({ nodes: 3 });
    for (const name of PHOTOS) files.push(await upload(cluster.gateway.url, name, 3));
    // One download taken before the move: two are left after it, not three.
    expect((await download(cluster.gateway.url, files[0]!.id)).status).toBe(200);
  });

  afterAll(async () => {
    await moved?.close();
    await cluster?.close();
    await target?.drop();
    box?.cleanup();
  });

  it('refuses a source that holds no index, in one line', async () => {
    const result = await runCli(['index', 'copy', '--from', box.dir, '--to', target.value], { env: box.env });
    expect(result.code).toBe(1);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/holds no index/);
    expect(hasStack(result.stderr)).toBe(false);
  });

  it('copies every table, and the gateway on PostgreSQL serves the files with their counts', async () => {
    const { url, dataDir } = cluster.gateway;
    await cluster.gateway.close();
    const result = await runCli(['index', 'copy', '--from', dataDir, '--to', target.value, '--json'], {
      env: box.env,
      timeoutMs: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { files: number; tables: { table: string; rows: number }[] };
    expect(report.files).toBe(PHOTOS.length);
    const rows = Object.fromEntries(report.tables.map(({ table, rows: n }) => [table, n]));
    expect(rows.files).toBe(PHOTOS.length);
    expect(rows.nodes).toBe(3);
    expect(rows.replicas).toBeGreaterThanOrEqual(PHOTOS.length * 3);

    moved = await startGateway(
      parseGatewayConfig({
        flags: {
          port: new URL(url).port,
          data: join(dataDir, '..', 'gateway-on-postgres'),
          database: target.value,
          secret: testClusterSecret,
          adminKey: testAdminKey,
          store: false,
          healthInterval: '0.2',
        },
        env: {},
      }),
    );
    const info = (await (await fetch(`${moved.url}/v1/files/${files[0]!.id}`)).json()) as { downloadsLeft: number };
    expect(info.downloadsLeft).toBe(2);
    for (const file of files) expect(await download(moved.url, file.id)).toEqual({ status: 200, sha: file.sha });
    expect((await download(moved.url, files[0]!.id)).status).toBe(200);
    expect((await download(moved.url, files[0]!.id)).status).toBe(410);
  });

  it('refuses to copy into an index that is not empty', async () => {
    const result = await runCli(['index', 'copy', '--from', cluster.dataDir + '/gateway', '--to', target.value], {
      env: box.env,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/already holds/);
    expect(lines(result.stderr)).toHaveLength(1);
  });
});
