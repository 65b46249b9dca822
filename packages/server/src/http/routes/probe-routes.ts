import { Type } from '@sinclair/typebox';
import type { Health } from '@legim/sdk';
import { HealthSchema } from '@legim/sdk/protocol';
import { headerValue } from '../edge-request.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

const Status = <S extends string[]>(...values: S) =>
  Type.Object({ status: Type.Union(values.map((v) => Type.Literal(v))) }, { additionalProperties: false });

/**
 * Probes for load balancers, orchestrators and uptime checkers, which carry
 * no keys: they answer a status and nothing else. The details of
 * `/v1/health` stay behind the admin key.
 */
export function probeRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'live',
      method: 'GET',
      path: '/livez',
      summary: 'The gateway process answers',
      tag: 'probes',
      auth: 'public',
      responses: { 200: { description: 'Alive', json: Status('ok') } },
    }).handle(async () => ({ status: 200, json: { status: 'ok' } })),
    route({
      id: 'ready',
      method: 'GET',
      path: '/readyz',
      summary:
        'Ready to take uploads and downloads: the index, the download counter and a write quorum of nodes reachable',
      tag: 'probes',
      auth: 'public',
      responses: {
        200: { description: 'Ready', json: Status('ready') },
        503: { description: 'Not ready; send traffic elsewhere', json: Status('not-ready') },
      },
    }).handle(async () =>
      isReady(await s.cluster.health())
        ? { status: 200, json: { status: 'ready' } }
        : { status: 503, headers: { 'Retry-After': '1' }, json: { status: 'not-ready' } },
    ),
    route({
      id: 'getHealth',
      method: 'GET',
      path: '/v1/health',
      summary: 'ok or degraded; with the admin key, the nodes, the index and the download counter',
      tag: 'probes',
      auth: 'public',
      responses: {
        200: {
          description: 'The status, and the details for the admin',
          json: Type.Union([HealthSchema, Status('ok', 'degraded')]),
        },
      },
      errors: ['UNAUTHORIZED'],
    }).handle(async ({ request }) => {
      const authorization = headerValue(request, 'authorization');
      if (authorization === undefined) return { status: 200, json: { status: (await s.cluster.health()).status } };
      await s.access.admitAdmin(authorization, request.address);
      return { status: 200, json: await s.cluster.health() };
    }),
  ];
}

function isReady(health: Health): boolean {
  return health.index.reachable && health.counter.reachable && health.nodes.up >= health.writeQuorum;
}
