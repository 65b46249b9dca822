import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// Every child the bench starts, so a failure or Ctrl-C still stops them all.
const children = new Set();
const TAIL_LINES = 40;

/**
 * Spawns a tracked child. Its stdout and stderr are always read (a full pipe
 * would block the child mid-benchmark) and the last lines kept for errors.
 */
export function spawnTracked(name, command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  const tail = [];
  const keep = (line) => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  };
  const stdout = createInterface({ input: child.stdout });
  createInterface({ input: child.stderr }).on('line', keep);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const tracked = { name, child, tail, stdout, exited, stop: (graceMs) => stopChild(tracked, graceMs) };
  stdout.on('line', keep);
  children.add(tracked);
  exited.then(() => children.delete(tracked));
  return tracked;
}

/** Resolves with the child's first stdout line parsed as JSON (the ready signal of test-support scripts). */
export function firstJsonLine(tracked, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(failure(tracked, `not ready after ${timeoutMs} ms`)), timeoutMs);
    tracked.stdout.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(failure(tracked, `printed "${line}" instead of its JSON ready line`));
      }
    });
    tracked.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(failure(tracked, `exited (${signal ?? code}) before it was ready`));
    });
  });
}

export function failure(tracked, why) {
  return new Error(`${tracked.name} ${why}\n--- last output of ${tracked.name} ---\n${tracked.tail.join('\n')}`);
}

/** SIGTERM, then SIGKILL after the grace period; resolves once the child is gone. */
export async function stopChild(tracked, graceMs = 5000) {
  const { child } = tracked;
  if (child.exitCode !== null || child.signalCode !== null) return tracked.exited;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const result = await tracked.exited;
  clearTimeout(timer);
  return result;
}

export async function stopAll(graceMs) {
  await Promise.all([...children].map((tracked) => stopChild(tracked, graceMs)));
}

/** Last resort from an 'exit' handler, where nothing asynchronous runs any more. */
export function killAllNow() {
  for (const { child } of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Runs a command to its end and returns its output (for wrk and version probes). */
export function runToEnd(name, command, args, { timeoutMs = 60_000, ...options } = {}) {
  const tracked = spawnTracked(name, command, args, options);
  const out = [];
  tracked.stdout.on('line', (line) => out.push(line));
  const timer = setTimeout(() => tracked.child.kill('SIGKILL'), timeoutMs);
  return tracked.exited.then(({ code, signal }) => {
    clearTimeout(timer);
    if (code !== 0) throw failure(tracked, `failed (${signal ?? code})`);
    return out.join('\n');
  });
}
