import { performance } from 'node:perf_hooks';

/**
 * N workers each repeat `operation` back to back until the deadline (no new
 * one starts after it); the rate counts completions over the time until the
 * last one ended, so no half-finished work is counted or dropped.
 */
export async function closedLoop({ concurrency, seconds, operation }) {
  const latencies = [];
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sequence = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await operation(sequence++);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedSec = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    count: latencies.length,
    elapsedSec,
    perSec: latencies.length / elapsedSec,
    latencyMs: { p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
