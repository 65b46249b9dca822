import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDownload } from './commands/download.js';
import { registerDrain } from './commands/drain.js';
import { registerEdit } from './commands/edit.js';
import { registerIndex } from './commands/index-command.js';
import { registerInfo } from './commands/info.js';
import { registerKeys } from './commands/keys.js';
import { registerLs } from './commands/ls.js';
import { registerNode } from './commands/node.js';
import { registerNodes } from './commands/nodes.js';
import { registerRm } from './commands/rm.js';
import { registerServer } from './commands/server.js';
import { registerShareX } from './commands/sharex.js';
import { registerStats } from './commands/stats.js';
import { registerUp } from './commands/up.js';
import { registerUpload } from './commands/upload.js';
import { registerWorker } from './commands/worker.js';
import { createContext, type CliContext } from './context.js';

export interface GlobalOptions {
  server?: string;
  ca?: string;
  profile?: string;
  debug?: boolean;
}

/**
 * The whole command tree. Commander parses and validates; each action hands
 * the work to the SDK or a service and the printing to `output.ts`. Errors
 * are thrown, never printed here: `main.ts` reports them.
 */
export function buildProgram(env: NodeJS.ProcessEnv = process.env): { program: Command; context: CliContext } {
  const program = new Command('legim');
  const context = createContext(() => program.opts<GlobalOptions>(), env);

  // Set before the subcommands are added, so that they inherit exitOverride and the output settings.
  program
    .description('Legim: a distributed image store with limited downloads and expiry')
    .version(readVersion(), '-v, --version')
    .option(
      '-s, --server <url>',
      'the gateway to talk to (default: from "legim config", LEGIM_URL, or http://127.0.0.1:3333)',
    )
    .option(
      '--ca <file>',
      'PEM of the CA an https:// server\'s certificate chains to (default: from "legim config", LEGIM_CA); server, node and worker processes trust it for their peers',
    )
    .option(
      '--profile <name>',
      'the settings profile to use, one per cluster (default: LEGIM_PROFILE, else the one "legim config use" chose, else local)',
    )
    .option('--debug', 'print stack traces of unexpected errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      // Usage errors are reported by main.ts as one red line, like every other failure.
      outputError: () => {},
    });

  registerUp(program, context);
  registerUpload(program, context);
  registerDownload(program, context);
  registerInfo(program, context);
  registerRm(program, context);
  registerEdit(program, context);
  registerLs(program, context);
  registerShareX(program, context);
  registerNodes(program, context);
  registerDrain(program, context);
  registerIndex(program, context);
  registerKeys(program, context);
  registerStats(program, context);
  registerDashboard(program, context);
  registerConfig(program, context);
  registerCompletion(program);
  registerServer(program, context);
  registerNode(program, context);
  registerWorker(program, context);
  return { program, context };
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
