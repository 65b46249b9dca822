import { Box, Text } from 'ink';
import type { LegimEvent } from '@legim/sdk';
import { eventLine } from './event-line.js';

const LABEL_WIDTH = 'downloaded'.length;

/** The latest events, newest last, one line each, coloured by kind. */
export function EventLog({ events, now }: { events: readonly LegimEvent[]; now: Date }) {
  if (events.length === 0) return <Text dimColor>no events yet: upload a file to see one</Text>;
  return (
    <Box flexDirection="column">
      {events.map((event, index) => {
        const line = eventLine(event, now);
        return (
          <Text key={index} wrap="truncate-end">
            <Text dimColor>{line.time}</Text> <Text color={line.color}>{line.label.padEnd(LABEL_WIDTH)}</Text>{' '}
            {line.detail}
          </Text>
        );
      })}
    </Box>
  );
}
