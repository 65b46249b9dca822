import type { ReactNode } from 'react';
import { Box, Text } from 'ink';

/** A framed block with a bold title: the dashboard's sections. */
export function Panel({ title, children, width }: { title: string; children: ReactNode; width?: number }) {
  return (
    <Box flexDirection="column" borderStyle="round" borderColor="gray" paddingX={1} width={width}>
      <Text bold>{title}</Text>
      {children}
    </Box>
  );
}
