import { readJson, send, type HttpContext } from './http.js';
import type { ClusterView, DrainStarted, Health } from './protocol/index.js';

export async function getHealth(ctx: HttpContext): Promise<Health> {
  return readJson<Health>(ctx, await send(ctx, { method: 'GET', path: '/v1/health' }));
}

export async function getCluster(ctx: HttpContext): Promise<ClusterView> {
  return readJson<ClusterView>(ctx, await send(ctx, { method: 'GET', path: '/v1/cluster' }));
}

export async function drainNode(ctx: HttpContext, nodeId: string): Promise<DrainStarted> {
  const path = `/v1/cluster/nodes/${encodeURIComponent(nodeId)}/drain`;
  return readJson<DrainStarted>(ctx, await send(ctx, { method: 'POST', path }));
}
