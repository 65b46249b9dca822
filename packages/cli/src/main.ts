#!/usr/bin/env node
// Before anything else is loaded: libraries (React, in `legim dashboard`) read it at import time.
process.env.NODE_ENV ??= 'production';

const [{ buildProgram }, { describeFailure, debugDetails }, { printFailure }] = await Promise.all([
  import('./program.js'),
  import('./errors.js'),
  import('./output.js'),
]);

// Read by hand too: a usage error can stop the parse before commander sees --debug.
const debug = process.argv.includes('--debug');
const { program, context } = buildProgram();

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const failure = await describeFailure(error, { server: context.lastServer });
  printFailure(failure, debug && failure.kind !== 'silent' ? debugDetails(error) : undefined);
  process.exitCode = failure.exitCode;
}

// Every command is done here. An idle keep-alive socket or timer must not
// hold the process open; unref'd, this never delays a process that is done.
setTimeout(() => process.exit(), 2_000).unref();
