import { Box, Text } from 'ink';
import type { Stats } from '@legim/sdk';
import { formatBytes } from '../output.js';
import { Panel } from './Panel.js';
import { StatRow } from './StatRow.js';
import type { TrafficRates } from './traffic-rates.js';

/** Files, traffic (with rates between the last two readings), jobs, replication and disks, side by side. */
export function StatsPanel({ stats, rates }: { stats: Stats | undefined; rates: TrafficRates | undefined }) {
  if (stats === undefined) return <Text dimColor>waiting for the numbers…</Text>;
  const { files, variants, traffic, jobs, replication, nodes } = stats;
  const perSecond = (key: keyof TrafficRates): string => (rates ? `${formatRate(rates[key])}/s` : '–/s');
  const bytesPerSecond = (key: keyof TrafficRates): string =>
    rates ? `${formatBytes(Math.round(rates[key]))}/s` : '–/s';
  const warnIf = (count: number, color: 'yellow' | 'red') => (count > 0 ? color : undefined);
  return (
    <Box flexWrap="wrap">
      <Panel title="Files" width={24}>
        <StatRow label="live" value={files.live} />
        <StatRow label="size" value={formatBytes(files.bytes)} />
        <StatRow label="processing" value={files.processing} />
        <StatRow label="failed" value={files.failed} color={warnIf(files.failed, 'yellow')} />
        <StatRow label="previews" value={variants.count} />
        <StatRow label="preview size" value={formatBytes(variants.bytes)} />
      </Panel>
      <Panel title="Traffic" width={30}>
        <StatRow label="uploads" value={traffic.uploads} rate={perSecond('uploads')} />
        <StatRow label="in" value={formatBytes(traffic.uploadBytes)} rate={bytesPerSecond('uploadBytes')} />
        <StatRow label="downloads" value={traffic.downloads} rate={perSecond('downloads')} />
        <StatRow label="out" value={formatBytes(traffic.downloadBytes)} rate={bytesPerSecond('downloadBytes')} />
        <StatRow label="refused" value={traffic.refused} rate={perSecond('refused')} />
      </Panel>
      <Panel title="Jobs" width={22}>
        <StatRow label="queue" value={jobs.backend} />
        <StatRow label="waiting" value={jobs.waiting} />
        <StatRow label="running" value={jobs.running} />
        <StatRow label="dead" value={jobs.deadLettered} color={warnIf(jobs.deadLettered, 'red')} />
      </Panel>
      <Panel title="Replication" width={22}>
        <StatRow label="copies" value={replication.target} />
        <StatRow
          label="too few"
          value={replication.underReplicated}
          color={warnIf(replication.underReplicated, 'yellow')}
        />
        <StatRow label="disk used" value={formatBytes(nodes.usedBytes)} />
        <StatRow label="disk free" value={formatBytes(nodes.freeBytes)} />
      </Panel>
    </Box>
  );
}

/** `0.3`, `12`: one decimal below ten. */
function formatRate(perSecond: number): string {
  return perSecond < 10 ? perSecond.toFixed(1) : String(Math.round(perSecond));
}
