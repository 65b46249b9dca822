import { Box, Text } from 'ink';
import type { ClusterView } from '@legim/sdk';
import { STATUS_COLOR, alignedNodeRows } from '../node-cells.js';

/** The gateway and its storage nodes as a tree: status, latency, disk use, files, address, last heartbeat. */
export function NodeTree({ view, now }: { view: ClusterView | undefined; now: Date }) {
  if (view === undefined) return <Text dimColor>waiting for the cluster…</Text>;
  const rows = alignedNodeRows(view, now);
  return (
    <Box flexDirection="column">
      <Text>
        <Text bold>gateway</Text> {view.gateway.id}
      </Text>
      {rows.length === 0 && <Text dimColor>no storage node has joined yet</Text>}
      {rows.map((row) => (
        <Text key={row.name} wrap="truncate-end">
          {row.name}
          {'  '}
          <Text color={STATUS_COLOR[row.status]}>{row.statusText}</Text>
          {'  '}
          {row.latency}
          {'  '}
          <Text color={STATUS_COLOR[row.status]}>{row.bar}</Text>
          {'  '}
          {row.capacity}
          {'  '}
          {row.files}
          {'  '}
          <Text color="cyan">{row.url}</Text>
          {'  '}
          <Text dimColor>seen {row.seen}</Text>
        </Text>
      ))}
    </Box>
  );
}
