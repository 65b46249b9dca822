import chalk from 'chalk';
import { formatDuration, type Stats } from '@legim/sdk';
import { capacitySummary } from './nodes-view.js';
import { formatBytes, formatRows, formatWhen } from './output.js';

/**
 * `legim stats` (loaded with the SDK, which it needs for `formatDuration`): the gateway's numbers, one labelled line per area.
 *
 *   files        12 live (4.1 MB): 1 processing, 0 failed
 *   previews     33 (1.2 MB)
 *   traffic      since start: 14 uploads (4.6 MB in), 9 downloads (2.9 MB out), 2 refused
 */
export function statsView(stats: Stats, now: Date = new Date()): string {
  const { files, variants, traffic, jobs, replication, nodes } = stats;
  const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const warn = (n: number, text: string): string => (n > 0 ? chalk.yellow(text) : text);
  return formatRows([
    ['read at', formatWhen(stats.at, now)],
    ['uptime', formatDuration(stats.uptimeSeconds)],
    [
      'files',
      `${files.live} live (${formatBytes(files.bytes)}): ${files.processing} processing, ${warn(files.failed, `${files.failed} failed`)}`,
    ],
    ['previews', `${variants.count} (${formatBytes(variants.bytes)})`],
    [
      'traffic',
      `since start: ${count(traffic.uploads, 'upload')} (${formatBytes(traffic.uploadBytes)} in), ${count(traffic.downloads, 'download')} (${formatBytes(traffic.downloadBytes)} out), ${traffic.refused} refused`,
    ],
    [
      'jobs',
      `${jobs.backend === 'sqlite' ? 'embedded queue' : 'RabbitMQ'}: ${jobs.waiting} waiting, ${jobs.running} running, ${warn(jobs.deadLettered, `${jobs.deadLettered} dead-lettered`)}`,
    ],
    [
      'replication',
      `${replication.target} cop${replication.target === 1 ? 'y' : 'ies'} per file, ${warn(replication.underReplicated, `${replication.underReplicated} with fewer`)}`,
    ],
    [
      'nodes',
      `${chalk.green(`${nodes.up} up`)}, ${nodes.suspect} suspect, ${nodes.down > 0 ? chalk.red(`${nodes.down} down`) : '0 down'}`,
    ],
    [
      'disks',
      // An older gateway sends no filesystems: its sums are all there is.
      nodes.filesystems === undefined
        ? `${formatBytes(nodes.usedBytes)} used of ${formatBytes(nodes.totalBytes)} (${formatBytes(nodes.freeBytes)} free)`
        : capacitySummary(nodes),
    ],
  ]);
}
