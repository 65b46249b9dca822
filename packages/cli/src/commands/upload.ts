import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { UploadedFile } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { positiveInteger } from '../options.js';
import { print, printJson, uploadView } from '../output.js';
import { createProgressBar } from '../progress-bar.js';

interface UploadOptions {
  downloads?: number;
  ttl?: string;
  title?: string;
  json?: boolean;
}

export function registerUpload(program: Command, context: CliContext): void {
  program
    .command('upload')
    .description('upload an image and print its download link')
    .argument('<file>', 'the image to upload (JPEG, PNG, GIF, WebP, AVIF, TIFF)')
    .option('-d, --downloads <n>', 'how many times it may be downloaded (server default: 3)', positiveInteger)
    .option('-t, --ttl <duration>', 'how long it lives: 90s, 15m, 1h, 7d (server default: 1h)')
    .option('--title <text>', 'a title (default: the file name without extension)')
    .option('--json', 'print the file object as JSON')
    .action(async (file: string, options: UploadOptions) => {
      const legim = await context.client();
      // The SDK checks the TTL too, but only after opening the file: report a typo first.
      if (options.ttl !== undefined) await checkTtl(options.ttl);
      await checkReadableFile(file);
      const bar = options.json ? undefined : createProgressBar({ label: 'uploading' });
      let uploaded: UploadedFile;
      try {
        uploaded = await legim.upload(file, {
          downloads: options.downloads,
          ttl: options.ttl,
          // Without --title the SDK uses the file name without its extension.
          title: options.title,
          onProgress: bar && ((progress) => bar.update(progress.sent, progress.total)),
        });
      } finally {
        bar?.done();
      }
      if (options.json) printJson(uploaded);
      else print(uploadView(uploaded, basename(file)));
    });
}

/** Fails with one clear line before any byte goes over the network. */
async function checkReadableFile(file: string): Promise<void> {
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CliError('NO_SUCH_FILE', `no such file: ${file}`);
    throw error;
  }
  if (!info.isFile()) throw new CliError('NOT_A_FILE', `not a file: ${file}`);
}

async function checkTtl(ttl: string): Promise<void> {
  const { parseDuration } = await import('@legim/sdk');
  try {
    parseDuration(ttl);
  } catch (error) {
    throw new CliError('INVALID_OPTION', `--ttl: ${(error as Error).message}`);
  }
}
