import { render } from 'ink';
import type { Legim } from '@legim/sdk';
import { Dashboard } from './Dashboard.js';

const ENTER_ALTERNATE_SCREEN = '\x1b[?1049h';
const LEAVE_ALTERNATE_SCREEN = '\x1b[?1049l';

/**
 * Runs the dashboard full screen (the terminal's alternate screen, so the
 * shell's scrollback is left as it was) until the user quits or a signal
 * arrives, then puts the terminal back.
 */
export async function runDashboard(legim: Legim, intervalMs: number): Promise<void> {
  const { stdout } = process;
  stdout.write(ENTER_ALTERNATE_SCREEN);
  // Ctrl-C is a key in raw mode, handled by the dashboard itself; these cover a kill or a stdin that is no terminal.
  const instance = render(<Dashboard legim={legim} intervalMs={intervalMs} />, { exitOnCtrlC: false });
  const quit = (): void => instance.unmount();
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  try {
    await instance.waitUntilExit();
  } finally {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    stdout.write(LEAVE_ALTERNATE_SCREEN);
  }
}
