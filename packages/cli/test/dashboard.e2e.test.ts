import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, type TestCluster } from '../../../test-support/cluster.js';
import { cliPath, hasStack, lines, runCli, sandbox, type Sandbox } from './helpers.js';

describe('legim dashboard without a terminal', () => {
  let box: Sandbox;
  beforeAll(() => void (box = sandbox()));
  afterAll(() => box?.cleanup());

  it('says it needs one and what to use instead: one red line, exit 1', async () => {
    // runCli's stdout is a pipe.
    const { code, stdout, stderr } = await runCli(['dashboard'], { env: { ...box.env, LEGIM_API_KEY: testAdminKey } });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(lines(stderr)).toHaveLength(1);
    expect(stderr).toMatch(
      /^✖ legim dashboard needs a terminal; .*"legim nodes --json" or "legim stats --json" \(NOT_A_TERMINAL\)$/m,
    );
    expect(hasStack(stderr)).toBe(false);
  });
});

const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** A private tmux server (its own socket), so the user's sessions are never touched. */
class Terminal {
  static #count = 0;
  // One socket per terminal: a server being killed cannot collide with the next one.
  readonly #socket = `legim-dashboard-test-${process.pid}-${++Terminal.#count}`;

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.#socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs `command` in a 110×40 terminal; the shell line after it prints its exit status. */
  start(command: string): void {
    this.tmux('new-session', '-d', '-s', 'main', '-x', '110', '-y', '40', `${command}; echo "EXIT=$?"; sleep 120`);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', 'main');
  }

  async screenWhere(check: (screen: string) => boolean, what: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.screen();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen was:\n${screen}`);
      await sleep(50);
    }
  }

  /**
   * Presses `key` until the program has exited: a key sent while Ink is still
   * switching the terminal to raw mode can be lost.
   */
  async pressUntilExit(key: string): Promise<string> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      this.tmux('send-keys', '-t', 'main', key);
      try {
        return await this.screenWhere((screen) => /EXIT=\d+/.test(screen), 'the exit', 1_000);
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone.
    }
  }
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

/** The built binary in a real terminal (tmux), against a real gateway and a storage node process. */
// .ci/run installs tmux and sets LEGIM_REQUIRE_TMUX=1: there these tests run (and fail without tmux), never skip.
describe.skipIf(!hasTmux && process.env.LEGIM_REQUIRE_TMUX !== '1')('legim dashboard in a terminal', () => {
  let cluster: TestCluster;
  let box: Sandbox;
  let terminal: Terminal;

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
    box = sandbox();
  });
  afterAll(async () => {
    terminal?.close();
    await cluster?.close();
    box?.cleanup();
  });

  /** The built binary as a user runs it: the sandbox's home, the admin key, no NODE_ENV (the CLI sets production). */
  const dashboardCommand = (): string => {
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      LANG: 'C.UTF-8',
      TERM: 'xterm-256color',
      HOME: box.env.HOME,
      XDG_CONFIG_HOME: box.env.XDG_CONFIG_HOME,
      XDG_DATA_HOME: box.env.XDG_DATA_HOME,
      LEGIM_API_KEY: testAdminKey,
    };
    const assignments = Object.entries(env).map(([key, value]) => `${key}=${shellQuote(value ?? '')}`);
    const argv = [process.execPath, cliPath, '--server', cluster.gateway.url, 'dashboard', '--interval', '300ms'];
    return `env -i ${assignments.join(' ')} ${argv.map(shellQuote).join(' ')}`;
  };

  for (const [name, key] of [
    ['q', 'q'],
    ['Esc', 'Escape'],
    ['Ctrl-C', 'C-c'],
  ] as const) {
    it(`draws the cluster full screen; ${name} quits with status 0 and puts the screen back`, async () => {
      terminal = new Terminal();
      try {
        terminal.start(dashboardCommand());
        const nodeId = cluster.nodes[0]!.nodeId;
        const screen = await terminal.screenWhere(
          (s) => new RegExp(`└─ ${nodeId}\\s+up\\b`).test(s) && /live\s+\d+/.test(s),
          'the node and the stats on the dashboard',
        );
        expect(screen).toContain(cluster.gateway.url);
        expect(screen).toContain('q quit');

        const after = await terminal.pressUntilExit(key);
        expect(after).toMatch(/EXIT=0/);
        // Back on the normal screen: the dashboard is gone, no error was printed.
        expect(after).not.toContain(nodeId);
        expect(after).not.toMatch(/✖|Error/);
      } finally {
        terminal.close();
      }
    });
  }
});
