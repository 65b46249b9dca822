import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { DownloadProgress, DownloadToResult, VariantToResult } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { downloadView, print, printJson, printNote } from '../output.js';
import { createProgressBar } from '../progress-bar.js';

interface DownloadOptions {
  output?: string;
  force?: boolean;
  json?: boolean;
  variant?: string;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/tiff': 'tif',
};

export function registerDownload(program: Command, context: CliContext): void {
  program
    .command('download')
    .description('download a file (takes one of its downloads), or one of its previews (takes none)')
    .argument('<id-or-url>', 'the file id or its link')
    .option(
      '-o, --output <path>',
      'where to save it: a file name, a directory, or - for standard output (default: ./<id>.<ext>)',
    )
    .option('-f, --force', 'overwrite the output file if it exists')
    .option('--variant <name>', 'save a preview instead: thumb, small or webp (takes no download)')
    .option('--json', 'print the result as JSON')
    .action(async (idOrUrl: string, options: DownloadOptions) => {
      if (options.output === '-') {
        await downloadToStdout(context, idOrUrl, options);
        return;
      }
      const { id, legim } = await context.clientFor(idOrUrl);
      const { variant } = options;
      const outputIsDir = options.output !== undefined && (await isDirectory(options.output));
      let target: string;
      if (options.output !== undefined && !outputIsDir) {
        target = resolve(options.output);
      } else {
        // Reading the metadata does not take a download; it also reports an
        // exhausted or expired file before anything is written.
        const info = await legim.info(id);
        const name =
          variant === undefined
            ? `${id}.${extensionFor(info.contentType)}`
            : `${id}.${variant}.${extensionFor(info.variants[variant]?.contentType ?? 'image/webp')}`;
        target = resolve(join(options.output ?? '.', name));
      }
      if (!options.force && (await exists(target))) {
        throw new CliError(
          'FILE_EXISTS',
          `${target} already exists; pass --force to overwrite it (no download was used)`,
        );
      }

      const bar = options.json ? undefined : createProgressBar({ label: 'downloading' });
      const onProgress = bar && ((progress: DownloadProgress) => bar.update(progress.received, progress.total));
      let result: DownloadToResult | (VariantToResult & { downloadsLeft?: undefined });
      try {
        result =
          variant === undefined
            ? await legim.downloadTo(id, target, { onProgress })
            : await legim.variantTo(id, variant, target, { onProgress });
      } finally {
        bar?.done();
      }
      const summary = {
        id,
        ...(variant === undefined ? {} : { variant }),
        path: result.path,
        size: result.size,
        sha256: result.sha256,
        downloadsLeft: result.downloadsLeft,
      };
      if (options.json) printJson(summary);
      else print(downloadView(summary));
    });
}

export function extensionFor(contentType: string): string {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const known = EXTENSIONS[type];
  if (known) return known;
  const subtype = /^[a-z]+\/([a-z0-9]+)/.exec(type)?.[1];
  return subtype ?? 'bin';
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return path.endsWith('/');
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * `-o -`: the bytes go to standard output as they arrive, for a pipe; the
 * progress and the summary go to stderr. The SHA-256 is checked at the end:
 * bytes already written cannot be taken back, so a mismatch is a red line
 * and exit status 1, which a pipeline with `set -o pipefail` sees.
 */
async function downloadToStdout(context: CliContext, idOrUrl: string, options: DownloadOptions): Promise<void> {
  if (options.json) {
    throw new CliError('INVALID_OPTION', '-o - writes the image to standard output, so --json cannot go there too');
  }
  // Checked before a download is taken: an image is no text for a terminal.
  if (process.stdout.isTTY) {
    throw new CliError(
      'NOT_A_PIPE',
      `-o - writes the image to standard output, which is a terminal here: pipe or redirect it (… -o - > photo.jpg); no download was used`,
    );
  }
  const { id, legim } = await context.clientFor(idOrUrl);
  const { variant } = options;
  const opened =
    variant === undefined
      ? await legim.download(id)
      : { ...(await legim.variant(id, variant)), downloadsLeft: undefined };
  const bar = createProgressBar({ label: 'downloading' });
  const total = opened.size >= 0 ? opened.size : undefined;
  const hash = createHash('sha256');
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      bar.update(received, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(opened.stream, counter, process.stdout, { end: false });
  } catch (error) {
    opened.stream.destroy();
    if ((error as NodeJS.ErrnoException).code === 'EPIPE') {
      throw new CliError('STDOUT_CLOSED', `the reader of standard output stopped after ${received} bytes`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    bar.done();
  }
  const sha256 = hash.digest('hex');
  if (opened.sha256 !== '' && sha256 !== opened.sha256) {
    throw new CliError(
      'DIGEST_MISMATCH',
      `the bytes received for ${idOrUrl} do not match their ETag (expected sha256 ${opened.sha256}, got ${sha256}); discard what was written`,
    );
  }
  printNote(
    downloadView({
      id,
      ...(variant === undefined ? {} : { variant }),
      path: '-',
      size: received,
      sha256,
      downloadsLeft: opened.downloadsLeft,
    }),
  );
}
