import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, testAdminKey, testClusterSecret, type TestCluster } from '../../../test-support/cluster.js';
import { fixtureBytes, repoRoot } from '../../../test-support/fixtures.js';

const SIZE = 200 * 1024 * 1024;

/** A valid JPEG followed by 200 MB of pseudo-random bytes (accepted like trailing garbage). */
function hugeImage(): { stream: () => Readable; sha256: string } {
  const head = fixtureBytes('photo-small-flower-1600x1203.jpg');
  const block = randomBytes(1024 * 1024);
  const chunks = () => {
    let sent = 0;
    return Readable.from(
      (function* () {
        yield head;
        for (sent = 0; sent < SIZE; sent += block.length) yield block;
      })(),
    );
  };
  const hash = createHash('sha256').update(head);
  for (let sent = 0; sent < SIZE; sent += block.length) hash.update(block);
  return { stream: chunks, sha256: hash.digest('hex') };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

describe('a 200 MB upload and download stream through the gateway', () => {
  let cluster: TestCluster;
  let gateway: { url: string; pid: number; stop: () => void };

  beforeAll(async () => {
    // Storage nodes as in every test; the gateway under measurement runs as its own process.
    cluster = await startCluster({ nodes: 3 });
    const flags = {
      port: 0,
      data: join(cluster.dataDir, 'big-gateway'),
      secret: testClusterSecret,
      adminKey: testAdminKey,
      store: false,
      maxUpload: '300MB',
      // The request path is under measurement; image work is measured by its own tests.
      workers: 0,
      healthInterval: '0.2',
    };
    const child = spawn(process.execPath, [join(repoRoot, 'test-support/gateway-process.mjs'), JSON.stringify(flags)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: child.stdout! }).once('line', resolve),
    );
    gateway = { url: JSON.parse(line).url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
    // The nodes joined the first gateway; point them at this one too by a join on their behalf.
    for (const node of cluster.nodes) {
      await fetch(`${gateway.url}/join`, {
        method: 'POST',
        headers: { authorization: `Bearer ${testClusterSecret}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          nodeId: node.nodeId,
          url: node.url,
          bootId: 'memory-test',
          stats: { blobCount: 0, usedBytes: 0, freeBytes: 1e12, totalBytes: 1e12 },
        }),
      });
    }
  });
  afterAll(async () => {
    gateway?.stop();
    await cluster?.close();
  });

  it('keeps the gateway RSS flat', async () => {
    const image = hugeImage();
    const baseline = rssMiB(gateway.pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(gateway.pid))), 50);
    try {
      const up = await fetch(`${gateway.url}/v1/files?downloads=1`, {
        method: 'POST',
        body: Readable.toWeb(image.stream()) as ReadableStream,
        duplex: 'half',
      } as RequestInit);
      const file = (await up.json()) as { url: string; sha256: string; size: number };
      expect(up.status).toBe(201);
      expect(file.sha256).toBe(image.sha256);
      const uploadPeak = peak;

      const down = await fetch(file.url);
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of down.body as unknown as AsyncIterable<Uint8Array>) {
        hash.update(chunk);
        received += chunk.length;
      }
      expect(received).toBe(file.size);
      expect(hash.digest('hex')).toBe(image.sha256);

      console.log(
        `gateway RSS: baseline ${baseline.toFixed(0)} MiB, peak during upload ${uploadPeak.toFixed(0)} MiB, ` +
          `peak overall ${peak.toFixed(0)} MiB for a ${(file.size / 2 ** 20).toFixed(0)} MiB file`,
      );
      // Buffering the file would cost at least 200 MiB; streaming costs buffers and sockets.
      expect(peak - baseline).toBeLessThan(96);
    } finally {
      clearInterval(sampler);
    }
  });
});
