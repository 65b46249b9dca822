import { PassThrough } from 'node:stream';
import { Command, InvalidArgumentError } from 'commander';
import { LegimError } from '@legim/sdk';
import { describe, expect, it } from 'vitest';
import { CliError, debugDetails, describeFailure } from '../src/errors.js';
import { formatBytes, formatLocalTime, formatRelative, printFailure } from '../src/output.js';
import { maskSecret, normalizeServerUrl } from '../src/settings.js';

function capture(): { streams: { stdout: PassThrough; stderr: PassThrough }; text: () => string } {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { streams: { stdout: new PassThrough(), stderr }, text: () => text };
}

describe('describeFailure', () => {
  it('keeps LegimError codes and says "no downloads left" for 410s', async () => {
    expect(
      await describeFailure(new LegimError('DOWNLOADS_EXHAUSTED', 'all 3 downloads of this file were used')),
    ).toEqual({
      kind: 'abort',
      message: 'no downloads left: all 3 downloads of this file were used',
      code: 'DOWNLOADS_EXHAUSTED',
      exitCode: 1,
    });
    expect((await describeFailure(new LegimError('EXPIRED', 'expired at 14:05'))).message).toMatch(
      /^no downloads left, the file has expired/,
    );
    expect(await describeFailure(new LegimError('UNSUPPORTED_MEDIA_TYPE', 'not an image'))).toMatchObject({
      kind: 'abort',
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
  });

  it('treats CliErrors, usage errors and local file errors as aborts', async () => {
    expect(await describeFailure(new CliError('NO_SUCH_FILE', 'no such file: x.jpg'))).toMatchObject({
      kind: 'abort',
      code: 'NO_SUCH_FILE',
    });

    const program = new Command().exitOverride().configureOutput({ outputError: () => {} });
    program
      .command('upload')
      .argument('<file>')
      .option('--downloads <n>', '', () => {
        throw new InvalidArgumentError('expected a whole number');
      })
      .action(() => {});
    const usage = await program.parseAsync(['node', 'legim', 'upload']).catch((error: unknown) => error);
    expect(await describeFailure(usage)).toMatchObject({
      kind: 'abort',
      code: 'USAGE',
      message: "missing required argument 'file'",
    });

    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.jpg'"), {
      code: 'ENOENT',
      path: '/x/y.jpg',
    });
    expect(await describeFailure(enoent)).toMatchObject({
      kind: 'abort',
      code: 'ENOENT',
      message: '/x/y.jpg: no such file or directory',
    });
  });

  it('recognises a refused connection deep in the cause chain', async () => {
    const error = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    const failure = await describeFailure(error, { server: 'http://127.0.0.1:9' });
    expect(failure).toMatchObject({ kind: 'abort', code: 'NETWORK_ERROR' });
    expect(failure.message).toContain('http://127.0.0.1:9');
  });

  it('calls anything else a bug: one red line, then the --debug hint; the stack only with --debug', async () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'id')");
    const failure = await describeFailure(bug);
    expect(failure).toMatchObject({ kind: 'bug', exitCode: 1 });

    const plain = capture();
    printFailure(failure, undefined, plain.streams);
    expect(plain.text()).toBe(
      "✖ unexpected error: Cannot read properties of undefined (reading 'id')\nrun with --debug for details\n",
    );

    const debug = capture();
    printFailure(failure, debugDetails(bug), debug.streams);
    expect(debug.text()).toMatch(/^✖ unexpected error: .*\nTypeError: Cannot read properties.*\n\s+at /);
  });

  it('prints nothing for --help and --version', async () => {
    const program = new Command()
      .exitOverride()
      .configureOutput({ writeOut: () => {}, outputError: () => {} })
      .version('1.2.3');
    const version = await program.parseAsync(['node', 'legim', '--version']).catch((error: unknown) => error);
    expect(await describeFailure(version)).toMatchObject({ kind: 'silent', exitCode: 0 });
  });
});

describe('formatting', () => {
  it('sizes', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(80_905)).toBe('81 kB');
    expect(formatBytes(4_400_000)).toBe('4.4 MB');
    expect(formatBytes(12_000_000_000)).toBe('12 GB');
  });

  it('relative times', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const at = (seconds: number) => new Date(now.getTime() + seconds * 1000);
    expect(formatRelative(at(3600), now)).toBe('in 1 hour');
    expect(formatRelative(at(59 * 60 + 50), now)).toBe('in 1 hour');
    expect(formatRelative(at(90), now)).toBe('in 2 minutes');
    expect(formatRelative(at(-30), now)).toBe('30 seconds ago');
    expect(formatRelative(at(2 * 86_400), now)).toBe('in 2 days');
    expect(formatRelative(at(23 * 3600 + 59 * 60), now)).toBe('in 1 day');
    expect(formatRelative(now, now)).toBe('now');
  });

  it('local times show the date only when it is not today', () => {
    const now = new Date(2026, 10, 23, 12, 0, 0);
    expect(formatLocalTime(new Date(2026, 10, 23, 14, 5, 7), now)).toBe('14:05:07');
    expect(formatLocalTime(new Date(2026, 10, 25, 9, 0, 0), now)).toBe('2026-11-25 09:00:00');
  });

  it('secrets and server URLs', () => {
    expect(maskSecret('abcdefghWXYZ')).toBe('********WXYZ');
    expect(maskSecret('abc')).toBe('***');
    expect(normalizeServerUrl('localhost:3333/')).toBe('http://localhost:3333');
    expect(normalizeServerUrl('https://legim.example/base/')).toBe('https://legim.example/base');
    expect(() => normalizeServerUrl('ftp://x')).toThrow(CliError);
  });
});
