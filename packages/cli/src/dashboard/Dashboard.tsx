import { Box, useApp, useInput, useStdin } from 'ink';
import type { Legim } from '@legim/sdk';
import { EventLog } from './EventLog.js';
import { Header } from './Header.js';
import { NodeTree } from './NodeTree.js';
import { Panel } from './Panel.js';
import { StatsPanel } from './StatsPanel.js';
import { useClusterFeed } from './useClusterFeed.js';

export interface DashboardProps {
  /** A client for the gateway, with the admin key. */
  legim: Legim;
  /** How often cluster, health and stats are read again. */
  intervalMs: number;
}

/** `legim dashboard`: the live view of one gateway. q, Esc or Ctrl-C quits. */
export function Dashboard({ legim, intervalMs }: DashboardProps) {
  const feed = useClusterFeed(legim, intervalMs);
  const { exit } = useApp();
  // Without a terminal on stdin there are no keys to read (and raw mode would throw).
  const { isRawModeSupported } = useStdin();
  useInput(
    (input, key) => {
      if (input === 'q' || key.escape || (key.ctrl && input === 'c')) exit();
    },
    { isActive: isRawModeSupported },
  );
  const now = feed.updatedAt ?? new Date();
  return (
    <Box flexDirection="column">
      <Header url={legim.url} feed={feed} />
      <Panel title="Nodes">
        <NodeTree view={feed.cluster} now={now} />
      </Panel>
      <StatsPanel stats={feed.stats} rates={feed.rates} />
      <Panel title="Events">
        <EventLog events={feed.events} now={now} />
      </Panel>
    </Box>
  );
}
