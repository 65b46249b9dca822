import { Box, Text } from 'ink';

/** `label ……… value`, the value right-aligned, with an optional dim rate after it. */
export function StatRow({
  label,
  value,
  rate,
  color,
}: {
  label: string;
  value: string | number;
  rate?: string | undefined;
  color?: 'green' | 'yellow' | 'red' | undefined;
}) {
  return (
    <Box justifyContent="space-between">
      <Text dimColor>{label}</Text>
      <Text>
        <Text color={color}>{value}</Text>
        {rate !== undefined && <Text dimColor> {rate}</Text>}
      </Text>
    </Box>
  );
}
