import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registerIndexCopy } from './index-copy.js';
import { registerIndexRebuild } from './index-rebuild.js';

/** `legim index …`: operations on the gateway's index itself. */
export function registerIndex(program: Command, context: CliContext): void {
  const index = program.command('index').description("operate on the gateways' index (files, copies, nodes, jobs)");
  registerIndexRebuild(index, context);
  registerIndexCopy(index);
}
