import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Command } from 'commander';
import type { FileInfo, Legim, UploadedFile } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { positiveInteger } from '../options.js';
import { createElapsedLine, print, printJson, printWarning, processedView, uploadView } from '../output.js';
import { createProgressBar } from '../progress-bar.js';
import { cliName } from '../invocation.js';
import { UploadHistory } from '../upload-history.js';

interface UploadOptions {
  downloads?: number;
  ttl?: string;
  title?: string;
  json?: boolean;
  wait?: boolean;
  waitTimeout?: string;
}

/** How long `--wait` waits without `--wait-timeout`. */
const DEFAULT_WAIT_SECONDS = 60;

export function registerUpload(program: Command, context: CliContext): void {
  program
    .command('upload')
    .description('upload an image and print its download link')
    .argument('<file>', 'the image to upload (JPEG, PNG, GIF, WebP, AVIF, TIFF)')
    .option('-d, --downloads <n>', 'how many times it may be downloaded (server default: 3)', positiveInteger)
    .option('-t, --ttl <duration>', 'how long it lives: 90s, 15m, 1h, 7d (server default: 1h)')
    .option('--title <text>', 'a title (default: the file name without extension)')
    .option('--wait', 'then wait until the previews are made (or processing fails) and show them')
    .option(
      '--wait-timeout <duration>',
      `how long --wait waits at most: 30s, 2m (default: ${DEFAULT_WAIT_SECONDS}s); implies --wait`,
    )
    .option('--json', 'print the file object as JSON')
    .action(async (file: string, options: UploadOptions) => {
      const legim = await context.client();
      // The SDK checks the TTL too, but only after opening the file: report a typo first.
      if (options.ttl !== undefined) await checkTtl(options.ttl);
      const waitSeconds =
        options.waitTimeout !== undefined
          ? await parseWaitTimeout(options.waitTimeout)
          : options.wait
            ? DEFAULT_WAIT_SECONDS
            : undefined;
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
      rememberUpload(legim.url, uploaded);
      if (waitSeconds === undefined) {
        if (options.json) printJson(uploaded);
        else print(uploadView(uploaded, basename(file)));
        return;
      }

      // The upload succeeded: whatever happens while waiting, the exit status
      // is 0 and the link and delete token are printed. Without --json they
      // are printed first, so that Ctrl-C during the wait cannot lose them.
      if (!options.json) print(uploadView(uploaded, basename(file)));
      const { file: processed, problem } = await waitForProcessing(legim, uploaded, waitSeconds, !options.json);
      if (options.json) printJson(processed);
      else if (processed.status === 'ready') print(processedView(processed));
      if (problem !== undefined) printWarning(problem);
    });
}

/**
 * Waits for the previews. Never throws: a failed processing, a deadline or a
 * lost connection is a `problem` to show in yellow, with the latest state known.
 */
async function waitForProcessing(
  legim: Legim,
  uploaded: UploadedFile,
  seconds: number,
  showProgress: boolean,
): Promise<{ file: UploadedFile; problem: string | undefined }> {
  const merge = (info: FileInfo | undefined): UploadedFile => ({
    ...uploaded,
    ...info,
    deleteToken: uploaded.deleteToken,
  });
  const line = showProgress ? createElapsedLine('making previews…') : undefined;
  try {
    const info = await legim.waitUntilProcessed(uploaded.id, { timeoutMs: seconds * 1000 });
    const problem =
      info.status === 'failed'
        ? `no previews: the image could not be processed (${info.statusReason || 'no reason given'}); ` +
          'the original is stored and can be downloaded'
        : undefined;
    return { file: merge(info), problem };
  } catch (error) {
    const { LegimError, formatDuration } = await import('@legim/sdk');
    if (LegimError.is(error) && error.code === 'UNAVAILABLE' && error.details?.timeoutMs !== undefined) {
      return {
        file: merge(error.details.file as FileInfo | undefined),
        problem: `still processing after ${formatDuration(seconds)}, so no previews yet; see "${cliName()} info ${uploaded.id}" later`,
      };
    }
    return {
      file: uploaded,
      problem: `uploaded, but could not wait for the previews: ${(error as Error).message}; see "${cliName()} info ${uploaded.id}" later`,
    };
  } finally {
    line?.done();
  }
}

/**
 * So that `legim ls --mine`, `rm` and `edit` work without the admin key. The
 * upload succeeded whatever happens here: a history that cannot be written
 * is a warning.
 */
function rememberUpload(server: string, file: UploadedFile): void {
  try {
    new UploadHistory().remember(server, {
      id: file.id,
      url: file.url,
      title: file.title,
      deleteToken: file.deleteToken,
      expiresAt: file.expiresAt,
      uploadedAt: file.createdAt,
    });
  } catch (error) {
    printWarning(`uploaded, but could not remember its delete token: ${(error as Error).message}`);
  }
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

async function parseWaitTimeout(text: string): Promise<number> {
  const { parseDuration } = await import('@legim/sdk');
  try {
    return parseDuration(text);
  } catch (error) {
    throw new CliError('INVALID_OPTION', `--wait-timeout: ${(error as Error).message}`);
  }
}

async function checkTtl(ttl: string): Promise<void> {
  const { parseDuration } = await import('@legim/sdk');
  try {
    parseDuration(ttl);
  } catch (error) {
    throw new CliError('INVALID_OPTION', `--ttl: ${(error as Error).message}`);
  }
}
