import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLocalTls } from 'legim';
import { startCluster, uploadForDownloads } from './cluster.mjs';
import { startCpuUsage } from './cpu-usage.mjs';
import { bestOfRounds } from './rounds.mjs';
import { measureUploads } from './upload-load.mjs';
import { runWrk } from './wrk.mjs';

/**
 * The price of TLS: the same cluster shape twice, one on plain HTTP and one
 * with HTTPS everywhere (client → gateway and gateway → nodes, certificates
 * from a CA made as `legim up --tls` makes it), both up at once so the rounds
 * alternate. Measures 20 KiB downloads (wrk, new TLS sessions only at
 * connect: keep-alive) and 1 MB uploads ×3 (closed loop) on each.
 */
export async function measureTls({ wrk, images, dir, seconds, warmupSeconds, rounds, uploaders, log }) {
  const tls = await ensureLocalTls(join(dir, 'ca'), '127.0.0.1');
  const ca = readFileSync(tls.ca);
  const clusters = {
    plain: await startCluster({ dir: join(dir, 'plain'), gatewayFlags: { workers: 0 } }),
    tls: await startCluster({ dir: join(dir, 'tls'), gatewayFlags: { workers: 0 }, tls }),
  };
  const procs = (name) => [clusters[name].gateway.proc, ...clusters[name].nodes.map((node) => node.proc)];
  log(`tls: plain ${clusters.plain.gateway.url}, tls ${clusters.tls.gateway.url}`);
  try {
    const urls = {};
    for (const [name, cluster] of Object.entries(clusters)) {
      urls[name] = await uploadForDownloads(cluster.gateway.url, images.small.bytes, cluster.dispatcher);
      await runWrk({ binary: wrk, url: urls[name], seconds: warmupSeconds, bodyBytes: images.small.size });
    }
    const download = (name) => async () => {
      const cpu = startCpuUsage(procs(name));
      const result = await runWrk({ binary: wrk, url: urls[name], seconds, bodyBytes: images.small.size });
      result.cpu = cpu();
      log(`tls download 20 KiB ${name}: ${result.requestsPerSec.toFixed(0)} req/s`);
      return result;
    };
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
      log(`tls upload 1 MB ${name}: ${result.perSec.toFixed(1)} uploads/s`);
      return result;
    };
    return {
      size: { download: images.small.size, upload: images.large.size },
      downloads: await bestOfRounds({
        rounds,
        score: (r) => r.requestsPerSec,
        sides: { plain: download('plain'), tls: download('tls') },
      }),
      uploads: await bestOfRounds({
        rounds,
        score: (r) => r.perSec,
        sides: { plain: upload('plain'), tls: upload('tls') },
      }),
    };
  } finally {
    await Promise.all(Object.keys(clusters).flatMap((name) => procs(name).map((proc) => proc.stop())));
    await Promise.all(Object.values(clusters).map((cluster) => cluster.dispatcher?.close()));
  }
}
