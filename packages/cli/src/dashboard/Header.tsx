import { Box, Text } from 'ink';
import { formatDuration } from '@legim/sdk';
import { formatLocalTime } from '../output.js';
import type { FeedSnapshot } from './cluster-feed.js';

/**
 * The gateway, its health, where downloads are counted and its uptime; under
 * it, while the gateway cannot be read, a line saying so.
 */
export function Header({ url, feed }: { url: string; feed: FeedSnapshot }) {
  const { health, stats } = feed;
  return (
    <Box flexDirection="column">
      <Box justifyContent="space-between">
        <Text wrap="truncate-end">
          <Text bold>legim</Text> <Text color="cyan">{url}</Text>
          {health && (
            <>
              {'  '}
              <Text color={health.status === 'ok' ? 'green' : 'yellow'}>● {health.status}</Text>
              {'  counter '}
              <Text color={health.counter.reachable ? undefined : 'red'}>
                {health.counter.backend}
                {health.counter.reachable ? '' : ' unreachable'}
              </Text>
            </>
          )}
          {stats && `  uptime ${formatDuration(stats.uptimeSeconds)}`}
        </Text>
        <Text dimColor> q quit</Text>
      </Box>
      <ConnectionLine feed={feed} />
    </Box>
  );
}

function ConnectionLine({ feed }: { feed: FeedSnapshot }) {
  if (feed.connection === 'live') return null;
  const problem = feed.problem ? `: ${feed.problem}` : '';
  if (feed.connection === 'connecting') {
    return (
      <Text color="yellow" wrap="truncate-end">
        connecting…{problem}
      </Text>
    );
  }
  const since = feed.updatedAt ? `; showing the data of ${formatLocalTime(feed.updatedAt)}` : '';
  return (
    <Text color="red" wrap="truncate-end">
      reconnecting…{problem}
      {since}
    </Text>
  );
}
