import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture } from '../../../test-support/fixtures.js';
import {
  closedPort,
  hasStack,
  lines,
  runCli,
  sandbox,
  startLongRunning,
  stop,
  type Running,
  type Sandbox,
} from './helpers.js';

/** Every expected failure: exit 1, exactly one red line `✖ <message> (<CODE>)`, nothing on stdout, no stack. */
function expectOneLine(
  result: { code: number | null; stdout: string; stderr: string },
  code: string,
  message?: RegExp,
): void {
  const context = `stderr was:\n${result.stderr}`;
  expect(result.code, context).toBe(1);
  expect(lines(result.stderr), context).toHaveLength(1);
  expect(result.stderr, context).toMatch(new RegExp(`^✖ .+ \\(${code}\\)\\n$`));
  if (message) expect(result.stderr, context).toMatch(message);
  expect(hasStack(result.stderr), context).toBe(false);
  expect(result.stdout).toBe('');
}

describe('failures are one red line', () => {
  let box: Sandbox;
  let gateway: Running;
  let server: string;
  const legim = (args: string[]) => runCli(['--server', server, ...args], { env: box.env });

  beforeAll(async () => {
    box = sandbox();
    // A lone gateway keeping its one copy on its own disk.
    gateway = await startLongRunning(
      [
        'server',
        'start',
        '--port',
        '0',
        '--data',
        join(box.dir, 'gateway'),
        '--replicas',
        '1',
        '--write-quorum',
        '1',
        '--json',
      ],
      box.env,
    );
    server = String(gateway.ready.url);
  });

  afterAll(async () => {
    if (gateway) {
      const exit = await stop(gateway, 'SIGTERM');
      expect(exit.code).toBe(0);
    }
    box?.cleanup();
  });

  it('upload of a missing file', async () => {
    expectOneLine(
      await legim(['upload', join(box.dir, 'no-such-photo.jpg'), '--downloads', '3']),
      'NO_SUCH_FILE',
      /no such file: .*no-such-photo\.jpg/,
    );
  });

  it('upload of a directory', async () => {
    expectOneLine(await legim(['upload', box.dir]), 'NOT_A_FILE');
  });

  it('upload of text named .jpg is refused by the server (415)', async () => {
    expectOneLine(await legim(['upload', fixture('bad-text-named.jpg')]), 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('upload with a malformed TTL or download count', async () => {
    expectOneLine(
      await legim(['upload', fixture('tiny-1x1.png'), '--ttl', 'soon']),
      'INVALID_OPTION',
      /invalid duration "soon"/,
    );
    expectOneLine(await legim(['upload', fixture('tiny-1x1.png'), '--downloads', 'many']), 'USAGE', /--downloads/);
  });

  it('an unknown id', async () => {
    const id = randomUUID();
    expectOneLine(await legim(['info', id]), 'FILE_NOT_FOUND');
    expectOneLine(await legim(['download', id, '-o', join(box.dir, 'never.jpg')]), 'FILE_NOT_FOUND');
    expectOneLine(await legim(['download', id]), 'FILE_NOT_FOUND');
  });

  it('something that is not an id', async () => {
    expectOneLine(await legim(['info', 'not-an-id']), 'INVALID_OPTION', /not a Legim file id or link/);
  });

  it('rm without a token or admin key', async () => {
    expectOneLine(await legim(['rm', randomUUID()]), 'NO_TOKEN');
  });

  it('the server is not running', async () => {
    const port = await closedPort();
    const result = await runCli(['--server', `http://127.0.0.1:${port}`, 'info', randomUUID()], { env: box.env });
    expectOneLine(
      result,
      'NETWORK_ERROR',
      new RegExp(`cannot reach the Legim server at http://127\\.0\\.0\\.1:${port}`),
    );
  });

  it('hints name the command the way the user ran it: `npx legim` under npx, `legim` on the PATH', async () => {
    const args = ['rm', randomUUID()];
    const viaNpx = await runCli(args, { env: { ...box.env, npm_command: 'exec' } });
    expect(viaNpx.stderr).toMatch(
      /printed by "npx legim upload"\) or an admin key \("npx legim config set apiKey KEY"\)/,
    );
    const onPath = await runCli(args, { env: box.env });
    expect(onPath.stderr).toMatch(/printed by "legim upload"\) or an admin key \("legim config set apiKey KEY"\)/);
  });

  it('the configured server is not running (upload)', async () => {
    const port = await closedPort();
    const result = await runCli(['upload', fixture('tiny-1x1.png')], {
      env: { ...box.env, LEGIM_URL: `http://127.0.0.1:${port}` },
    });
    expectOneLine(result, 'NETWORK_ERROR');
  });

  it('a gateway on a port that is taken', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await runCli(['server', 'start', '--port', String(port), '--data', join(box.dir, 'busy')], {
        env: box.env,
      });
      expectOneLine(result, 'EADDRINUSE', new RegExp(`port ${port} is already in use`));
    } finally {
      busy.close();
    }
  });

  it('a node without a cluster secret', async () => {
    const result = await runCli(['node', 'start', '--port', '0', '--data', join(box.dir, 'lonely-node')], {
      env: box.env,
    });
    expectOneLine(result, 'INVALID_OPTION', /cluster secret/);
  });

  it('a log level that does not exist, for every process the CLI runs', async () => {
    for (const command of [['server', 'start'], ['node', 'start'], ['worker'], ['up']]) {
      const result = await runCli([...command, '--log-level', 'loud'], { env: box.env });
      expectOneLine(
        result,
        'USAGE',
        /--log-level.*'loud'.*expected one of trace, debug, info, warn, error, fatal, silent/,
      );
    }
  });

  it('a node config file that does not exist', async () => {
    const result = await runCli(['node', 'start', '--config', join(box.dir, 'nope.yaml')], { env: box.env });
    expectOneLine(result, 'NO_SUCH_FILE');
  });

  it('a working upload for contrast: link, downloads, expiry, token', async () => {
    const result = await legim(['upload', fixture('tiny-1x1.png'), '--downloads', '2', '--ttl', '10m']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(new RegExp(`link\\s+${server.replace(/[.]/g, '\\.')}/d/[0-9a-f-]{36}`));
    expect(result.stdout).toMatch(/downloads\s+2 left of 2/);
    expect(result.stdout).toMatch(/expires\s+.*\(in 10 minutes\)/);
    expect(result.stdout).toMatch(/delete token\s+\S+/);
  });
});
