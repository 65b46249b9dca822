import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Legim, LegimError } from '@legim/sdk';
import { ensureLocalTls, type LocalTlsFiles } from 'legim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@legim/node';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { fixture, fixtureBytes, sha256 } from '../../../test-support/fixtures.js';
import { waitFor } from '../../../test-support/wait.js';
import { freePortRange, lines, runCli, sandbox, startLongRunning, stop, type Sandbox } from './helpers.js';

const PHOTO = 'photo-small-flower-1600x1203.jpg';
const curl = promisify(execFile);

/**
 * HTTPS end to end with real processes: a gateway and storage nodes that
 * serve TLS and verify each other against the cluster's CA, reached by the
 * SDK, the built CLI and the real curl; a node whose certificate another CA
 * signed, or that speaks plain HTTP, is never used; plain HTTP to the
 * gateway is told to use https://; a bad certificate stops a process at start.
 */
describe('TLS', { timeout: 60_000 }, () => {
  let box: Sandbox;
  let tls: LocalTlsFiles;
  let rogue: LocalTlsFiles;
  let cluster: TestCluster;
  const logged: string[] = [];

  beforeAll(async () => {
    box = sandbox();
    tls = await ensureLocalTls(join(box.dir, 'cluster'), '127.0.0.1');
    rogue = await ensureLocalTls(join(box.dir, 'rogue'), '127.0.0.1');
    // The gateway runs in this process: its one-line reports about refused nodes come here.
    const destination = { write: (line: string) => void logged.push((JSON.parse(line) as { msg: string }).msg) };
    const logger = createLogger({ level: 'info', name: 'gateway', destination });
    cluster = await startCluster({ nodes: 2, tls: { cert: tls.cert, key: tls.key, ca: tls.ca }, logger });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
    box?.cleanup();
  });

  it('serves uploads and downloads over HTTPS to the SDK, with nodes reached over HTTPS', async () => {
    expect(cluster.gateway.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(cluster.nodes.map((node) => node.url)).toEqual([
      expect.stringMatching(/^https:/),
      expect.stringMatching(/^https:/),
    ]);
    const legim = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey, ca: readFileSync(tls.ca) });
    const uploaded = await legim.upload(fixtureBytes(PHOTO), { downloads: 5 });
    expect(uploaded.url.startsWith(`${cluster.gateway.url}/d/`)).toBe(true);
    const target = join(box.dir, 'sdk.jpg');
    await legim.downloadTo(uploaded.id, target);
    expect(sha256(readFileSync(target))).toBe(sha256(fixtureBytes(PHOTO)));
  });

  it('works with the built CLI (--ca and LEGIM_CA) and with curl --cacert', async () => {
    const upload = await runCli(['--server', cluster.gateway.url, '--ca', tls.ca, 'upload', fixture(PHOTO), '--json'], {
      env: box.env,
    });
    expect(upload.stderr).toBe('');
    const { id } = JSON.parse(upload.stdout) as { id: string };
    const target = join(box.dir, 'cli.jpg');
    const download = await runCli(['--server', cluster.gateway.url, 'download', id, '-o', target], {
      env: { ...box.env, LEGIM_CA: tls.ca },
    });
    expect(download.code, download.stderr).toBe(0);
    expect(sha256(readFileSync(target))).toBe(sha256(fixtureBytes(PHOTO)));

    const viaCurl = join(box.dir, 'curl.jpg');
    await curl('curl', ['-sSf', '--cacert', tls.ca, `${cluster.gateway.url}/d/${id}`, '-o', viaCurl]);
    expect(sha256(readFileSync(viaCurl))).toBe(sha256(fixtureBytes(PHOTO)));

    // Without the CA the certificate is not trusted: one red line that names the fix.
    const untrusted = await runCli(['--server', cluster.gateway.url, 'info', id], { env: box.env });
    expect(untrusted.code).toBe(1);
    expect(lines(untrusted.stderr)).toEqual([expect.stringMatching(/certificate is not trusted.*--ca or LEGIM_CA/)]);
  });

  it('answers plain HTTP to the HTTPS gateway with a 400 that says to use https://', async () => {
    const plainUrl = cluster.gateway.url.replace('https:', 'http:');
    const error = await new Legim({ url: plainUrl }).info('00000000-0000-4000-8000-000000000000').catch((e) => e);
    expect(LegimError.is(error) && error.code).toBe('TLS_REQUIRED');
    const { stdout } = await curl('curl', ['-s', '-w', ' %{http_code}', `${plainUrl}/v1/health`]);
    expect(stdout).toMatch(/speaks HTTPS only.* 400$/);
    const cli = await runCli(['--server', plainUrl, 'info', '00000000-0000-4000-8000-000000000000'], { env: box.env });
    expect(cli.code).toBe(1);
    expect(lines(cli.stderr)).toEqual([expect.stringMatching(/speaks HTTPS only: use an https:\/\/ URL/)]);
  });

  it('never uses a node whose certificate another CA signed, nor one that speaks plain HTTP', async () => {
    // Both trust the cluster's CA, so they reach the gateway and join; the gateway must refuse them.
    const foreign = await cluster.startNode({ tls: { cert: rogue.cert, key: rogue.key, ca: tls.ca } });
    const plain = await cluster.startNode({ tls: { ca: tls.ca } });
    expect(plain.url).toMatch(/^http:/);
    await waitFor(
      () =>
        logged.some(
          (line) =>
            line.includes(`storage node ${foreign.nodeId}`) &&
            /is refused: its TLS certificate is not signed/.test(line),
        ) &&
        logged.some((line) => line.includes(`refusing to send the cluster secret to storage node ${plain.nodeId}`)),
      'the gateway to report both nodes refused',
    );
    const legim = new Legim({ url: cluster.gateway.url, apiKey: testAdminKey, ca: readFileSync(tls.ca) });
    const view = await legim.cluster();
    const status = (id: string) => view.nodes.find((node) => node.id === id)?.status;
    expect([status(foreign.nodeId), status(plain.nodeId)]).not.toContain('up');
    expect(view.nodes.filter((node) => node.status === 'up')).toHaveLength(2);
    // Each is reported once, not once per probe.
    expect(logged.filter((line) => line.includes(foreign.nodeId))).toHaveLength(1);
  });

  it('stops a gateway or node at start, with one line, on a missing key, a key of another certificate or an unreadable CA', async () => {
    const data = join(box.dir, 'refused');
    const node = ['node', 'start', '--port', '0', '--secret', 'x'.repeat(20), '--data', data];
    const cases = [
      {
        args: ['server', 'start', '--port', '0', '--data', data, '--tls-cert', tls.cert],
        error: /--tls-cert was given without --tls-key/,
      },
      { args: [...node, '--tls-cert', tls.cert, '--tls-key', rogue.key], error: /does not belong to the certificate/ },
      { args: ['--ca', join(box.dir, 'missing.pem'), ...node], error: /cannot read --ca .*missing\.pem: ENOENT/ },
    ];
    const results = await Promise.all(cases.map(({ args }) => runCli(args, { env: box.env })));
    results.forEach((result, i) => {
      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual([expect.stringMatching(cases[i]!.error)]);
    });
  });
});

describe('legim up --tls', { timeout: 60_000 }, () => {
  it('runs the whole local cluster over HTTPS with its own CA, saved for the CLI', async () => {
    const box = sandbox();
    try {
      const port = await freePortRange(2);
      const dataDir = join(box.dir, 'cluster');
      const up = await startLongRunning(
        ['up', '--tls', '--nodes', '1', '--port', String(port), '--data', dataDir, '--json'],
        box.env,
      );
      try {
        const ready = up.ready as { gateway: { url: string }; nodes: { url: string }[]; ca: string };
        expect(ready.gateway.url).toBe(`https://127.0.0.1:${port}`);
        expect(ready.nodes[0]!.url).toBe(`https://127.0.0.1:${port + 1}`);
        expect(ready.ca).toBe(join(dataDir, 'tls', 'ca.pem'));

        // No --server, no --ca: both come from the settings `up` saved.
        const upload = await runCli(['upload', fixture(PHOTO), '--json'], { env: box.env });
        expect(upload.stderr).toBe('');
        const { id } = JSON.parse(upload.stdout) as { id: string };
        const viaCurl = join(box.dir, 'curl.jpg');
        await curl('curl', ['-sSf', '--cacert', ready.ca, `${ready.gateway.url}/d/${id}`, '-o', viaCurl]);
        expect(sha256(readFileSync(viaCurl))).toBe(sha256(fixtureBytes(PHOTO)));
      } finally {
        await stop(up);
      }
    } finally {
      box.cleanup();
    }
  });
});
