import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import type { RunningNginx } from '../../../test-support/nginx.js';
import type { ServerProcess } from '../../../test-support/processes.js';
import { sha256 } from '../../../test-support/fixtures.js';
import { call, uploadBytes, waitFor, type Reply } from './support.js';

export interface UploadOutcome {
  bytes: Buffer;
  reply: Reply | undefined;
  /** A network error instead of a reply. */
  error: string | undefined;
  startedAfterKill: boolean;
}

const UPLOADERS = 6;

/**
 * Uploads through nginx from several clients while gateway A is SIGKILLed,
 * and checks what may fail: only uploads A had taken (at most one in flight
 * per uploader, plus one per uploader sent on a kept-alive connection to A
 * before nginx saw it close), each as nginx's 503 UNAVAILABLE (a sent
 * request is not replayed); B never refuses one. Resolves with the uploads
 * that were acknowledged, for the caller to download.
 */
export async function killGatewayUnderUploadLoad(options: {
  nginx: RunningNginx;
  gatewayA: ServerProcess;
  gatewayB: ServerProcess;
  photo: Buffer;
  label: string;
}): Promise<UploadOutcome[]> {
  const { nginx, gatewayA, gatewayB, photo, label } = options;
  const hostOf = (gateway: ServerProcess) => new URL(gateway.url).host;
  const run = randomBytes(4).toString('hex');
  const outcomes: UploadOutcome[] = [];
  let killedAt = Infinity;
  let stop = false;
  let sequence = 0;
  const uploader = async () => {
    while (!stop) {
      // Each upload its own bytes (after the JPEG's end marker), so a mix-up cannot pass the check.
      const bytes = Buffer.concat([photo, Buffer.from(`legim-${label}-${run}-${sequence++}`)]);
      const startedAt = performance.now();
      let reply: Reply | undefined;
      let error: string | undefined;
      try {
        reply = await uploadBytes(nginx.url, bytes, { downloads: 1, ttl: '10m' });
      } catch (failure) {
        error = String((failure as Error).cause ?? failure);
      }
      outcomes.push({ bytes, reply, error, startedAfterKill: startedAt > killedAt });
    }
  };
  const load = Array.from({ length: UPLOADERS }, uploader);
  try {
    // Both gateways take uploads before the kill, so some are in flight on A when it dies.
    await waitFor(
      () => {
        const posts = nginx.accessLog().filter((entry) => entry.method === 'POST' && entry.status === 201);
        const byGateway = countBy(posts.map((entry) => entry.upstreams.at(-1)!));
        return (byGateway.get(hostOf(gatewayA)) ?? 0) >= 5 && (byGateway.get(hostOf(gatewayB)) ?? 0) >= 5;
      },
      'uploads acknowledged by both gateways',
      30_000,
    );
    killedAt = performance.now();
    await gatewayA.kill('SIGKILL');
    await waitFor(
      () => outcomes.filter((o) => o.startedAfterKill && o.reply?.status === 201).length >= 20,
      '20 uploads acknowledged after the kill',
      30_000,
    );
  } finally {
    stop = true;
    await Promise.all(load);
  }

  const acknowledged = outcomes.filter((o) => o.reply?.status === 201);
  const failed = outcomes.filter((o) => o.reply?.status !== 201);
  console.info(
    `gateway SIGKILLed under upload load (${label}): ${acknowledged.length} uploads acknowledged, ${failed.length} failed: ` +
      JSON.stringify(failed.map((o) => o.error ?? `${o.reply!.status} ${o.reply!.json?.error?.code}`)),
  );
  expect(failed.length).toBeLessThanOrEqual(2 * UPLOADERS);
  for (const o of failed) {
    expect(o.reply?.status, o.error).toBe(503);
    expect(o.reply!.json.error.code).toBe('UNAVAILABLE');
  }
  const lost = nginx.accessLog().filter((entry) => entry.method === 'POST' && entry.status === 503);
  expect(lost).toHaveLength(failed.length);
  for (const entry of lost) expect(entry.upstreams).toEqual([hostOf(gatewayA)]);
  return acknowledged;
}

/** Each acknowledged upload downloads from `baseUrl` byte for byte, 8 at a time: none was lost. */
export async function expectEveryUploadServed(acknowledged: UploadOutcome[], baseUrl: string): Promise<void> {
  const pending = [...acknowledged];
  const check = async () => {
    for (let o = pending.pop(); o; o = pending.pop()) {
      const download = await call(`${baseUrl}/d/${o.reply!.json.id}`);
      expect(download.status, JSON.stringify(download.json)).toBe(200);
      expect(sha256(download.body)).toBe(sha256(o.bytes));
    }
  };
  await Promise.all(Array.from({ length: 8 }, check));
}

export function countBy(values: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
