import { LegimError } from './errors.js';
import { readJson, send, type HttpContext } from './http.js';
import type { ClusterView, DrainStarted, Health } from './protocol/index.js';

export async function getHealth(ctx: HttpContext): Promise<Health> {
  // Without a key the gateway answers the status alone (for probes); the details need the admin key.
  if (ctx.apiKey === undefined) {
    throw new LegimError('UNAUTHORIZED', 'the health details need the admin key: pass apiKey (or use status())');
  }
  return readJson<Health>(ctx, await send(ctx, { method: 'GET', path: '/v1/health' }));
}

/** `ok` or `degraded`, as load balancers and uptime checkers see it: no key needed. */
export async function getStatus(ctx: HttpContext): Promise<Pick<Health, 'status'>> {
  const { status } = await readJson<Pick<Health, 'status'>>(
    ctx,
    await send(ctx, { method: 'GET', path: '/v1/health', token: '' }),
  );
  return { status };
}

export async function getCluster(ctx: HttpContext): Promise<ClusterView> {
  return readJson<ClusterView>(ctx, await send(ctx, { method: 'GET', path: '/v1/cluster' }));
}

export async function drainNode(ctx: HttpContext, nodeId: string): Promise<DrainStarted> {
  const path = `/v1/cluster/nodes/${encodeURIComponent(nodeId)}/drain`;
  return readJson<DrainStarted>(ctx, await send(ctx, { method: 'POST', path }));
}
