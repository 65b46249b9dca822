import { stat } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { Command } from 'commander';
import type { FileInfo, Legim, UploadedFile } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError, EXIT_FAILURE, debugDetails, describeFailure } from '../errors.js';
import { positiveInteger } from '../options.js';
import {
  createElapsedLine,
  print,
  printFailure,
  printJsonLine,
  printProblem,
  printWarning,
  processedView,
  uploadLine,
  uploadView,
} from '../output.js';
import { createProgressBar } from '../progress-bar.js';
import { cliName } from '../invocation.js';
import { UploadHistory } from '../upload-history.js';

interface UploadOptions {
  downloads?: number;
  ttl?: string;
  title?: string;
  name?: string;
  json?: boolean;
  quiet?: boolean;
  wait?: boolean;
  waitTimeout?: string;
}

/** How long `--wait` waits without `--wait-timeout`. */
const DEFAULT_WAIT_SECONDS = 60;

/** The file argument that reads standard input. */
const STDIN = '-';

export function registerUpload(program: Command, context: CliContext): void {
  program
    .command('upload')
    .description('upload images (or standard input) and print their download links')
    .argument('<files...>', 'the images to upload (JPEG, PNG, GIF, WebP, AVIF, TIFF); - reads standard input')
    .option('-d, --downloads <n>', 'how many times it may be downloaded (server default: 3)', positiveInteger)
    .option('-t, --ttl <duration>', 'how long it lives: 90s, 15m, 1h, 7d (server default: 1h)')
    .option('--title <text>', 'a title (default: the file name without extension)')
    .option(
      '--name <file-name>',
      'the file name of one upload, e.g. of standard input: the default title is it without extension (stdin has none without it)',
    )
    .option('--wait', 'then wait until the previews are made (or processing fails) and show them')
    .option(
      '--wait-timeout <duration>',
      `how long --wait waits at most: 30s, 2m (default: ${DEFAULT_WAIT_SECONDS}s); implies --wait`,
    )
    .option('-q, --quiet', 'print only the link, one line per file')
    .option('--json', 'print the file object as JSON, one line per file')
    .action(async (files: string[], options: UploadOptions) => {
      if (options.json && options.quiet) throw new CliError('INVALID_OPTION', '--json and --quiet: choose one');
      const fromStdin = files.filter((file) => file === STDIN).length;
      if (fromStdin > 1) throw new CliError('INVALID_OPTION', 'standard input (-) can be uploaded once per command');
      if (options.name !== undefined && files.length > 1) {
        throw new CliError('INVALID_OPTION', '--name names one upload; give it with a single file (or - alone)');
      }
      if (fromStdin === 1 && process.stdin.isTTY) {
        throw new CliError(
          'NOT_A_PIPE',
          `- reads the image from standard input, which is a terminal here: pipe it in, e.g. "cat photo.jpg | ${cliName()} upload - --name photo.jpg"`,
        );
      }
      const legim = await context.client();
      // The SDK checks the TTL too, but only after opening the file: report a typo first.
      if (options.ttl !== undefined) await checkTtl(options.ttl);
      const waitSeconds =
        options.waitTimeout !== undefined
          ? await parseWaitTimeout(options.waitTimeout)
          : options.wait
            ? DEFAULT_WAIT_SECONDS
            : undefined;

      const output: Output = options.json ? 'json' : options.quiet ? 'quiet' : files.length > 1 ? 'lines' : 'full';
      if (output === 'full') {
        // One file: any failure is the command's, reported by main.ts as for every command.
        await uploadOne(legim, files[0]!, options, waitSeconds, output, false);
        return;
      }
      // Several files (or output for scripts): a file that fails is one red line, and the others go on.
      let failed = 0;
      for (const file of files) {
        try {
          await uploadOne(legim, file, options, waitSeconds, output, files.length > 1);
        } catch (error) {
          failed++;
          const failure = await describeFailure(error, { server: context.lastServer });
          const message =
            files.length === 1 || failure.message.includes(file)
              ? failure.message
              : `${sourceLabel(file, options)}: ${failure.message}`;
          const debug = process.argv.includes('--debug') && failure.kind !== 'silent';
          printFailure({ ...failure, message }, debug ? debugDetails(error) : undefined);
          if (output === 'json')
            printJsonLine({ source: file, error: { code: failure.code ?? 'INTERNAL', message: failure.message } });
        }
      }
      if (failed === 0) return;
      if (output === 'lines') {
        const uploaded = files.length - failed;
        printProblem(
          uploaded === 0
            ? `none of the ${files.length} files could be uploaded`
            : `${failed} of ${files.length} files could not be uploaded; the other${uploaded === 1 ? ' was' : 's were'}`,
        );
      }
      process.exitCode = EXIT_FAILURE;
    });
}

/** `full`: one file, the whole summary; `lines`: one line per file; `quiet`: the link alone; `json`: one object per line. */
type Output = 'full' | 'lines' | 'quiet' | 'json';

async function uploadOne(
  legim: Legim,
  file: string,
  options: UploadOptions,
  waitSeconds: number | undefined,
  output: Output,
  /** One of several files: its warnings name it. */
  several: boolean,
): Promise<void> {
  const fromStdin = file === STDIN;
  if (!fromStdin) await checkReadableFile(file);
  const source = sourceLabel(file, options);
  const bar = output === 'full' || output === 'lines' ? createProgressBar({ label: `uploading ${source}` }) : undefined;
  let uploaded: UploadedFile;
  try {
    // Standard input is streamed as it comes, never held in memory.
    uploaded = await legim.upload(fromStdin ? process.stdin : file, {
      downloads: options.downloads,
      ttl: options.ttl,
      // Without --title or --name the SDK uses the file name without its extension (stdin has none).
      title: options.title ?? (options.name === undefined ? undefined : basename(options.name, extname(options.name))),
      onProgress: bar && ((progress) => bar.update(progress.sent, progress.total)),
    });
  } finally {
    bar?.done();
  }
  rememberUpload(legim.url, uploaded);

  // The link (and delete token) are printed before any wait, so Ctrl-C cannot lose them.
  if (output === 'full') print(uploadView(uploaded, source));
  else if (output === 'lines') print(uploadLine(uploaded, source));
  else if (output === 'quiet') print(uploaded.url);
  if (waitSeconds === undefined) {
    if (output === 'json') printJsonLine(uploaded);
    return;
  }

  // The upload succeeded: whatever happens while waiting, it counts as done.
  const { file: processed, problem } = await waitForProcessing(legim, uploaded, waitSeconds, output === 'full');
  if (output === 'json') printJsonLine(processed);
  else if (output === 'full' && processed.status === 'ready') print(processedView(processed));
  if (problem !== undefined) printWarning(several ? `${source}: ${problem}` : problem);
}

/** How a file is named in the output: its base name, --name, or `stdin`. */
function sourceLabel(file: string, options: UploadOptions): string {
  if (options.name !== undefined) return basename(options.name);
  return file === STDIN ? 'stdin' : basename(file);
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
