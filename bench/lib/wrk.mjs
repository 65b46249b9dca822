import { runToEnd } from './processes.mjs';

export const WRK_THREADS = 2;
export const WRK_CONNECTIONS = 32;

/** One wrk run; throws if the run saw errors, since a fast error page would read as a fast server. */
export async function runWrk({ binary, url, seconds, bodyBytes }) {
  // wrk's default 2 s timeout counts a slow answer as an error; on a shared machine (other work on the cores)
  // a 1 MB answer to 32 connections can take longer without anything being wrong.
  const args = [`-t${WRK_THREADS}`, `-c${WRK_CONNECTIONS}`, `-d${seconds}s`, '--timeout', '10s', '--latency', url];
  const output = await runToEnd('wrk', binary, args, { timeoutMs: (seconds + 30) * 1000 });
  const result = parseWrk(output);
  if (result.non2xx > 0 || result.socketErrors > 0) {
    throw new Error(`wrk on ${url}: ${result.non2xx} non-2xx responses, ${result.socketErrors} socket errors\n${output}`);
  }
  // Payload MB/s, not wrk's Transfer/sec: the two servers send different headers.
  return { ...result, payloadMBps: (result.requestsPerSec * bodyBytes) / 1e6 };
}

export function parseWrk(output) {
  const number = (regex) => {
    const match = output.match(regex);
    if (!match) throw new Error(`unexpected wrk output (no ${regex}):\n${output}`);
    return match;
  };
  const [, requests, duration] = number(/(\d+) requests in ([\d.]+\w+)/);
  const [, rps] = number(/Requests\/sec:\s+([\d.]+)/);
  const [, transfer, transferUnit] = number(/Transfer\/sec:\s+([\d.]+)(\w+)/);
  const socket = output.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    requests: Number(requests),
    duration,
    requestsPerSec: Number(rps),
    transferMBps: (Number(transfer) * UNIT_BYTES[transferUnit]) / 1e6,
    latencyMs: {
      avg: durationMs(number(/Latency\s+([\d.]+\w+)/)[1]),
      p50: durationMs(number(/50%\s+([\d.]+\w+)/)[1]),
      p99: durationMs(number(/99%\s+([\d.]+\w+)/)[1]),
    },
    non2xx: Number(output.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? 0),
    socketErrors: socket ? socket.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0,
  };
}

// wrk prints binary units.
const UNIT_BYTES = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const UNIT_MS = { us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationMs(text) {
  const [, value, unit] = text.match(/([\d.]+)(\w+)/);
  return Number(value) * UNIT_MS[unit];
}
