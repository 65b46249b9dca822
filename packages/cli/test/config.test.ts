import { statSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

describe('legim config', () => {
  let box: Sandbox;
  beforeEach(() => {
    box = sandbox();
  });
  afterEach(() => box.cleanup());

  const legim = (args: string[], env: NodeJS.ProcessEnv = box.env, cwd?: string) =>
    runCli(args, { env, ...(cwd !== undefined && { cwd }) });

  it('stores the settings under XDG_CONFIG_HOME, private to the user', async () => {
    const path = await legim(['config', 'path']);
    expect(path.code).toBe(0);
    expect(path.stdout.trim()).toBe(join(box.env.XDG_CONFIG_HOME!, 'legim', 'config.json'));

    const set = await legim(['config', 'set', 'server', 'localhost:4000']);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain('server = http://localhost:4000');

    const file = path.stdout.trim();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ server: 'http://localhost:4000' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(box.env.HOME!, '.config'))).toBe(false);
  });

  it('shows defaults before anything is set', async () => {
    const all = await legim(['config', 'get', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({
      server: { value: 'http://127.0.0.1:3333', source: 'default' },
      apiKey: { value: null, source: 'default' },
      ca: { value: null, source: 'default' },
    });
    const human = await legim(['config', 'get']);
    expect(human.stdout).toMatch(/server\s+http:\/\/127\.0\.0\.1:3333\s+\(default\)/);
    expect(human.stdout).toMatch(/apiKey\s+\(not set\)/);
  });

  it('masks the API key except its last 4 characters', async () => {
    expect((await legim(['config', 'set', 'apiKey', 'secret-admin-key-WXYZ'])).code).toBe(0);

    const one = await legim(['config', 'get', 'apiKey']);
    expect(one.stdout.trim()).toMatch(/^\*+WXYZ$/);
    expect(one.stdout).not.toContain('secret');

    const all = await legim(['config', 'get']);
    expect(all.stdout).toMatch(/apiKey\s+\*+WXYZ/);
    expect(all.stdout).not.toContain('secret-admin');

    const revealed = await legim(['config', 'get', 'apiKey', '--reveal']);
    expect(revealed.stdout.trim()).toBe('secret-admin-key-WXYZ');
  });

  it('lets LEGIM_URL, LEGIM_API_KEY, LEGIM_CA, --server and --ca override the stored values', async () => {
    await legim(['config', 'set', 'server', 'http://stored.example:1']);
    await legim(['config', 'set', 'ca', 'stored-ca.pem'], { ...box.env }, box.dir);

    const fromEnv = await legim(['config', 'get', '--json'], {
      ...box.env,
      LEGIM_URL: 'http://env.example:2/',
      LEGIM_API_KEY: 'env-key-1234',
      LEGIM_CA: '/etc/env-ca.pem',
    });
    expect(JSON.parse(fromEnv.stdout)).toEqual({
      server: { value: 'http://env.example:2', source: 'env' },
      apiKey: { value: expect.stringMatching(/^\*+1234$/), source: 'env' },
      ca: { value: '/etc/env-ca.pem', source: 'env' },
    });
    // A relative path is stored absolute, from where it was given.
    expect((await legim(['config', 'get', 'ca'])).stdout.trim()).toBe(join(box.dir, 'stored-ca.pem'));
    const caFlag = await legim(['--ca', '/flag-ca.pem', 'config', 'get', 'ca']);
    expect(caFlag.stdout.trim()).toBe('/flag-ca.pem');

    const fromFlag = await legim(['--server', 'http://flag.example:3', 'config', 'get', 'server'], {
      ...box.env,
      LEGIM_URL: 'http://env.example:2',
    });
    expect(fromFlag.stdout.trim()).toBe('http://flag.example:3');

    const stored = await legim(['config', 'get', 'server']);
    expect(stored.stdout.trim()).toBe('http://stored.example:1');
  });

  it('refuses unknown keys and bad URLs with one red line', async () => {
    for (const args of [
      ['config', 'set', 'colour', 'blue'],
      ['config', 'set', 'server', 'ftp://example.com'],
      ['config', 'get', 'nope'],
      ['config', 'set', 'apiKey', '   '],
    ]) {
      const result = await legim(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(lines(result.stderr), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(/^✖ .+ \([A-Z_]+\)\n$/);
      expect(hasStack(result.stderr)).toBe(false);
      expect(result.stdout).toBe('');
    }
  });

  it('prints help and the version without errors', async () => {
    const help = await legim(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['up', 'upload', 'download', 'info', 'rm', 'config', 'server', 'node']) {
      expect(help.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
    const version = await legim(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('reports usage mistakes as one red line', async () => {
    const missing = await legim(['upload']);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([expect.stringMatching(/^✖ missing required argument 'file' \(USAGE\)$/)]);

    const typo = await legim(['uplod', 'x.jpg']);
    expect(typo.code).toBe(1);
    expect(lines(typo.stderr)).toHaveLength(1);
    expect(typo.stderr).toContain('upload');

    const badTtl = await legim(['upload', 'x.jpg', '--ttl', 'soon']);
    expect(badTtl.code).toBe(1);
    expect(lines(badTtl.stderr)).toHaveLength(1);
    expect(badTtl.stderr).toContain('--ttl');
  });
});
