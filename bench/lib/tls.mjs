import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalTls } from 'legim';
import { startCluster, uploadForDownloads } from './cluster.mjs';
import { startCpuUsage } from './cpu-usage.mjs';
import { bestOfRounds } from './rounds.mjs';
import { measureUploads } from './upload-load.mjs';
import { runWrk } from './wrk.mjs';

/**
 * The price of TLS and of encryption at rest: the same cluster shape three
 * times, one on plain HTTP (the reference), one with HTTPS everywhere (client
 * → gateway and gateway → nodes, certificates from a CA made as `legim up
 * --tls` makes it) and one with `--encrypt` (blobs sealed in the gateway), all
 * up at once so the rounds alternate. Measures 20 KiB and 1 MB downloads
 * (wrk, new TLS sessions only at connect: keep-alive) and 1 MB uploads ×3
 * (closed loop) on each.
 */
export async function measureTls({ wrk, images, dir, seconds, warmupSeconds, rounds, uploaders, log }) {
  const tls = await ensureLocalTls(join(dir, 'ca'), '127.0.0.1');
  const ca = readFileSync(tls.ca);
  const clusters = {
    plain: await startCluster({ dir: join(dir, 'plain'), gatewayFlags: { workers: 0 } }),
    tls: await startCluster({ dir: join(dir, 'tls'), gatewayFlags: { workers: 0 }, tls }),
    encrypted: await startCluster({ dir: join(dir, 'encrypted'), gatewayFlags: { workers: 0, encrypt: true } }),
  };
  const procs = (name) => [clusters[name].gateway.proc, ...clusters[name].nodes.map((node) => node.proc)];
  const urls = Object.entries(clusters).map(([name, cluster]) => `${name} ${cluster.gateway.url}`);
  log(`tls and encryption: ${urls.join(', ')}`);
  try {
    const files = { small: {}, large: {} };
    for (const [name, cluster] of Object.entries(clusters)) {
      for (const size of ['small', 'large']) {
        const image = images[size];
        files[size][name] = await uploadForDownloads(cluster.gateway.url, image.bytes, cluster.dispatcher);
        await runWrk({ binary: wrk, url: files[size][name], seconds: warmupSeconds, bodyBytes: image.size });
      }
    }
    const download = (size, name) => async () => {
      const image = images[size];
      const cpu = startCpuUsage(procs(name));
      const result = await runWrk({ binary: wrk, url: files[size][name], seconds, bodyBytes: image.size });
      result.cpu = cpu();
      log(`download ${image.name} ${name}: ${result.requestsPerSec.toFixed(0)} req/s, ${result.payloadMBps.toFixed(1)} MB/s`);
      return result;
    };
    const sides = (measure) => Object.fromEntries(Object.keys(clusters).map((name) => [name, measure(name)]));
    const upload = (name) => async () => {
      const cpu = startCpuUsage(procs(name));
      const result = await measureUploads({
        gatewayUrl: clusters[name].gateway.url,
        bytes: images.large.bytes,
        concurrency: uploaders,
        seconds,
        ...(name === 'tls' && { ca }),
      });
      result.cpu = cpu();
      log(`upload 1 MB ${name}: ${result.perSec.toFixed(1)} uploads/s`);
      return result;
    };
    return {
      size: { download: images.small.size, largeDownload: images.large.size, upload: images.large.size },
      downloads: await bestOfRounds({
        rounds,
        score: (r) => r.requestsPerSec,
        sides: sides((name) => download('small', name)),
      }),
      largeDownloads: await bestOfRounds({
        rounds,
        score: (r) => r.requestsPerSec,
        sides: sides((name) => download('large', name)),
      }),
      uploads: await bestOfRounds({ rounds, score: (r) => r.perSec, sides: sides(upload) }),
    };
  } finally {
    await Promise.all(Object.keys(clusters).flatMap((name) => procs(name).map((proc) => proc.stop())));
    await Promise.all(Object.values(clusters).map((cluster) => cluster.dispatcher?.close()));
  }
}
