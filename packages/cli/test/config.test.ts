import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    // In the `local` profile, which the first setting saved makes the default.
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      profile: 'local',
      profiles: { local: { server: 'http://localhost:4000' } },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(join(box.env.HOME!, '.config'))).toBe(false);
  });

  it('shows defaults before anything is set', async () => {
    const all = await legim(['config', 'get', '--json']);
    expect(all.code).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({
      profile: { value: 'local', source: 'default' },
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
      profile: { value: 'local', source: 'config' },
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

  it('moves a settings file from before profiles into the local profile, and keeps using it', async () => {
    const file = join(box.env.XDG_CONFIG_HOME!, 'legim', 'config.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ server: 'http://10.0.0.6:3333', apiKey: 'old-admin-key-ABCD' }), {
      mode: 0o600,
    });

    const all = await legim(['config', 'get', '--json', '--reveal']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toEqual({
      profile: { value: 'local', source: 'config' },
      server: { value: 'http://10.0.0.6:3333', source: 'config' },
      apiKey: { value: 'old-admin-key-ABCD', source: 'config' },
      ca: { value: null, source: 'default' },
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      profile: 'local',
      profiles: { local: { server: 'http://10.0.0.6:3333', apiKey: 'old-admin-key-ABCD' } },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keeps one profile per cluster: set with --profile, list, pick the default', async () => {
    expect((await legim(['config', 'set', 'server', 'http://one.example:1'])).code).toBe(0);
    const set = await legim(['--profile', 'two', 'config', 'set', 'server', 'http://two.example:2']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('server = http://two.example:2  (profile two)');

    const human = await legim(['config', 'ls']);
    expect(human.stdout.trimEnd().split('\n')).toEqual([
      '* local  http://one.example:1  (default)',
      '  two    http://two.example:2',
    ]);
    expect((await legim(['config', 'get', 'server'], { ...box.env, LEGIM_PROFILE: 'two' })).stdout.trim()).toBe(
      'http://two.example:2',
    );
    const byEnv = await legim(['config', 'get'], { ...box.env, LEGIM_PROFILE: 'two' });
    expect(byEnv.stdout).toMatch(/profile\s+two\s+\(from LEGIM_PROFILE\)/);
    expect(byEnv.stdout).toMatch(/server\s+http:\/\/two\.example:2\s+\(from profile two\)/);

    const use = await legim(['config', 'use', 'two']);
    expect(use.code, use.stderr).toBe(0);
    expect(use.stdout.trim()).toBe('default profile: two  http://two.example:2');
    expect((await legim(['config', 'get', 'server'])).stdout.trim()).toBe('http://two.example:2');
    expect((await legim(['--profile', 'local', 'config', 'get', 'server'])).stdout.trim()).toBe('http://one.example:1');

    const bad = await legim(['--profile', '../etc', 'config', 'get']);
    expect(bad.code).toBe(1);
    expect(lines(bad.stderr)).toEqual([
      expect.stringMatching(/^✖ "\.\.\/etc" is not a profile name.*\(INVALID_OPTION\)$/),
    ]);
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
    expect(lines(missing.stderr)).toEqual([expect.stringMatching(/^✖ missing required argument 'files' \(USAGE\)$/)]);

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
