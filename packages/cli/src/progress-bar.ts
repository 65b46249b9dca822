import { chalkStderr as chalk } from 'chalk';
import { formatBytes } from './output.js';

export interface ProgressBar {
  /** Reports `done` bytes of `total` (when known). Cheap to call often. */
  update(done: number, total?: number): void;
  /** Erases the bar; the caller prints the result afterwards. */
  done(): void;
}

export interface ProgressBarOptions {
  label: string;
  total?: number | undefined;
  /** Defaults to stderr, so stdout stays clean for pipes and `--json`. */
  stream?: NodeJS.WriteStream;
  /** Milliseconds between redraws. */
  interval?: number;
}

const NOOP: ProgressBar = { update() {}, done() {} };
const WIDTH = 24;

/**
 * A one-line progress bar, redrawn in place. On anything but a terminal
 * (a pipe, a file, CI, a test) it draws nothing at all.
 */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const stream = options.stream ?? process.stderr;
  if (!stream.isTTY) return NOOP;

  const interval = options.interval ?? 100;
  const started = Date.now();
  let total = options.total;
  let last = 0;
  let drawn = false;
  let current = 0;

  const draw = (): void => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0.2 ? `${formatBytes(current / seconds)}/s` : '';
    let line: string;
    if (total && total > 0) {
      const ratio = Math.min(1, current / total);
      const filled = Math.round(ratio * WIDTH);
      const bar = chalk.cyan('█'.repeat(filled)) + chalk.dim('░'.repeat(WIDTH - filled));
      const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
      line = `${options.label} ${bar} ${percent}  ${formatBytes(current)} / ${formatBytes(total)}  ${chalk.dim(rate)}`;
    } else {
      line = `${options.label} ${formatBytes(current)}  ${chalk.dim(rate)}`;
    }
    const columns = stream.columns || 80;
    stream.write(`\r\x1b[2K${truncate(line, columns - 1)}`);
    drawn = true;
  };

  return {
    update(done, newTotal) {
      current = done;
      if (newTotal !== undefined) total = newTotal;
      const now = Date.now();
      if (now - last < interval && !(total !== undefined && done >= total)) return;
      last = now;
      draw();
    },
    done() {
      if (drawn) stream.write('\r\x1b[2K');
      drawn = false;
    },
  };
}

/** Cuts a line with ANSI colours to `width` visible characters. */
function truncate(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end !== -1) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) break;
    out += line[i];
    visible++;
  }
  return `${out}\x1b[0m`;
}
