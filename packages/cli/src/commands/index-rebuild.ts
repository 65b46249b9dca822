import type { Command } from 'commander';
import { LegimError, type IndexRebuildProgress, type Legim } from '@legim/sdk';
import type { CliContext } from '../context.js';
import { CliError } from '../errors.js';
import { cliName } from '../invocation.js';
import { formatRows, print, printJson, printNote, printWarning } from '../output.js';
import { adminClient } from './admin-client.js';

const POLL_MS = 500;

/** `legim index rebuild [--wait] [--json]`: rebuilds the gateway's index from the storage nodes. */
export function registerIndexRebuild(index: Command, context: CliContext): void {
  index
    .command('rebuild')
    .description("rebuild the gateway's index from the storage nodes' sidecars, after it was lost (admin key)")
    .option('--wait', 'wait until the rebuild has finished, printing its progress')
    .option('--json', 'print the progress as JSON')
    .action(async (options: { wait?: boolean; json?: boolean }) => {
      const legim = await adminClient(context, 'index rebuild');
      let progress = await legim.rebuildIndex().catch(async (error: unknown) => {
        // With --wait, a rebuild already running is followed instead.
        if (!options.wait || !LegimError.is(error) || error.code !== 'REBUILD_RUNNING') throw error;
        if (!options.json) printNote('a rebuild is already running: following it');
        return legim.rebuildStatus();
      });
      if (!options.json) print(`Rebuilding the index from ${progress.nodes.total} storage node(s)`);
      if (options.wait) progress = await untilFinished(legim, options.json ? () => {} : printNote);
      if (options.json) printJson(progress);
      else if (options.wait) printSummary(progress);
      else printNote(`follow it with "${cliName()} index rebuild --wait" (it attaches to the running one)`);
      if (progress.state === 'failed') {
        throw new CliError('REBUILD_FAILED', `the index rebuild failed: ${progress.lastError ?? 'unknown error'}`);
      }
    });
}

/** Polls the progress until the rebuild is no longer running, reporting each change. */
async function untilFinished(legim: Legim, report: (line: string) => void): Promise<IndexRebuildProgress> {
  let last = '';
  for (;;) {
    const progress = await legim.rebuildStatus();
    if (progress.state !== 'running') return progress;
    const line = `${progress.nodes.scanned}/${progress.nodes.total} nodes read, ${progress.blobsSeen} blobs seen, ${progress.filesRestored} files restored (${progress.filesPerSecond} files/s)`;
    if (line !== last) report(line);
    last = line;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function printSummary(progress: IndexRebuildProgress): void {
  const { skipped, orphans, mismatches, unrecoverable } = progress;
  const seconds =
    progress.startedAt && progress.finishedAt
      ? (Date.parse(progress.finishedAt) - Date.parse(progress.startedAt)) / 1000
      : 0;
  if (progress.state === 'done') print(`✔ Index rebuilt in ${seconds.toFixed(1)} s`);
  print(
    formatRows([
      ['files restored', `${progress.filesRestored} (${progress.variantsRestored} variants)`],
      ['files/s', String(progress.filesPerSecond)],
      ['blobs seen', `${progress.blobsSeen} on ${progress.nodes.scanned} of ${progress.nodes.total} nodes`],
      ['already indexed', String(skipped.alreadyIndexed)],
      ['kept gone', `${skipped.deleted} deleted, ${skipped.expired} expired, ${skipped.exhausted} used up`],
      ['in flight', skipped.inFlight > 0 ? String(skipped.inFlight) : undefined],
      ['orphans', orphans.count > 0 ? `${orphans.count}: ${orphans.keys.join(', ')}` : '0'],
      [
        'unrecoverable',
        unrecoverable.count > 0 ? `${unrecoverable.count} encrypted: ${unrecoverable.keys.join(', ')}` : undefined,
      ],
      ['mismatches', mismatches.count > 0 ? `${mismatches.count}: ${mismatches.keys.join(', ')}` : undefined],
    ]),
  );
  if (progress.nodes.unreachable.length > 0) {
    printWarning(
      `node(s) ${progress.nodes.unreachable.join(', ')} were down and not read: run "${cliName()} index rebuild" again once they are back`,
    );
  }
}
