import { join } from 'node:path';
import { startCpuUsage } from './cpu-usage.mjs';
import { startCluster, startGatewayProcess, uploadForDownloads, waitForNodesUp } from './cluster.mjs';
import { startNginx, startProxyNginx } from './nginx.mjs';
import { bestOfRounds } from './rounds.mjs';
import { runWrk } from './wrk.mjs';

/** The three ways of serving the same file, in the order of the first round. */
export const GATEWAY_SIDES = ['nginx', 'oneGateway', 'twoGateways'];

/**
 * Downloads of one file through nginx in front of 2 gateway processes that
 * share one data dir, through nginx in front of 1 of them, and from nginx's
 * own disk: does a second gateway add throughput, and what does the proxy
 * hop cost. Own cluster (workers off, as for the other download loads) and
 * three nginx instances, each with its own prefix and port; all stopped at the
 * end. gatewayFlags adds to both gateways' flags (e.g. `redis`, `redisPrefix`).
 */
export async function measureGatewayScaling({ tools, dir, image, seconds, warmupSeconds, rounds, log, gatewayFlags }) {
  const cluster = await startCluster({ dir: join(dir, 'cluster'), gatewayFlags: { workers: 0, ...gatewayFlags } });
  const first = cluster.gateway;
  const second = await startGatewayProcess({ ...cluster.flags, port: 0 }, [], 'gateway-2');
  // The second gateway hears no joins: it reads the nodes from the shared database and probes them.
  await waitForNodesUp(second.url, cluster.nodes.length);
  const nginx = await startNginx({ binary: tools.nginx, dir: join(dir, 'nginx-static'), files: [image] });
  const proxy = (name, upstreams) => startProxyNginx({ name, binary: tools.nginx, dir: join(dir, name), upstreams });
  const one = await proxy('nginx-1gw', [first.url]);
  const two = await proxy('nginx-2gw', [first.url, second.url]);
  const procs = [first.proc, second.proc, ...cluster.nodes.map((node) => node.proc), nginx.proc, one.proc, two.proc];
  try {
    // One file, uploaded with the cluster's maximum downloads (1,000,000): enough for every round of every side.
    const path = new URL(await uploadForDownloads(first.url, image.bytes)).pathname;
    log(`gateways: ${first.url} and ${second.url} on one data dir; nginx ${one.url} -> 1, ${two.url} -> 2`);
    const urls = {
      nginx: `${nginx.url}/${image.name}`,
      oneGateway: `${one.url}${path}`,
      twoGateways: `${two.url}${path}`,
    };
    const measure = (side) => async (round) => {
      const url = urls[side];
      if (round === 0) await runWrk({ binary: tools.wrk, url, seconds: warmupSeconds, bodyBytes: image.size });
      const cpu = startCpuUsage(procs);
      const result = await runWrk({ binary: tools.wrk, url, seconds, bodyBytes: image.size });
      result.cpu = cpu();
      log(`download ${image.name} ${side}: ${result.requestsPerSec.toFixed(0)} req/s`);
      return result;
    };
    const sides = Object.fromEntries(GATEWAY_SIDES.map((side) => [side, measure(side)]));
    const best = await bestOfRounds({ rounds, sides, score: (r) => r.requestsPerSec });
    const spread = best.twoGateways.cpu.perProcessCorePercent;
    if (Math.min(spread.gateway, spread['gateway-2']) < 2) {
      log(`warning: with 2 gateways one was idle (gateway ${spread.gateway}%, gateway-2 ${spread['gateway-2']}%)`);
    }
    return { size: image.size, ...best };
  } finally {
    await Promise.all(procs.map((proc) => proc.stop()));
  }
}
