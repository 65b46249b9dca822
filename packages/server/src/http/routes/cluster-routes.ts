import { Type } from '@sinclair/typebox';
import { ClusterViewSchema, DrainStartedSchema } from '@legim/sdk/protocol';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

const JOIN_LIMIT = 64 * 1024;

/** The node tree and drains (admin), and the storage nodes' own calls (cluster secret). */
export function clusterRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'getCluster',
      method: 'GET',
      path: '/v1/cluster',
      summary: 'The node tree with status, latency and disk of each node',
      tag: 'cluster',
      auth: 'admin',
      responses: { 200: { description: 'The tree, flattened', json: ClusterViewSchema } },
    }).handle(async () => ({ status: 200, json: await s.cluster.view(s.publicUrl()) })),
    route({
      id: 'drainNode',
      method: 'POST',
      path: '/v1/cluster/nodes/:id/drain',
      summary: 'Empty a node (and its subtree) into the others, then remove it',
      tag: 'cluster',
      auth: 'admin',
      params: Type.Object({ id: Type.String({ description: 'The node id' }) }),
      responses: { 202: { description: 'The drain has started', json: DrainStartedSchema } },
      errors: ['NODE_NOT_FOUND', 'CANNOT_DRAIN'],
    }).handle(async ({ params }) => ({ status: 202, json: await s.cluster.drain(params.id) })),
    route({
      id: 'joinCluster',
      method: 'POST',
      path: '/join',
      summary: "A storage node's join and heartbeat",
      tag: 'internal',
      auth: 'cluster',
      body: {
        json: Type.Object({}, { additionalProperties: true, description: 'docs/node-api.md, "Joining"' }),
        limit: JOIN_LIMIT,
      },
      responses: {
        200: {
          description: 'Joined; how often to send heartbeats',
          json: Type.Object(
            {
              ok: Type.Literal(true),
              heartbeatMs: Type.Integer({ minimum: 1 }),
              removed: Type.Optional(Type.Literal(true)),
              corruptReceived: Type.Optional(Type.Literal(true)),
            },
            { additionalProperties: false },
          ),
        },
      },
    }).handle(async ({ body }) => ({ status: 200, json: await s.cluster.join(body) })),
    route({
      id: 'drainSelf',
      method: 'POST',
      path: '/drain',
      summary: 'A storage node asks to be drained (`legim node remove`)',
      tag: 'internal',
      auth: 'cluster',
      body: { json: Type.Object({ nodeId: Type.String() }), limit: JOIN_LIMIT },
      responses: { 202: { description: 'The drain has started', json: DrainStartedSchema } },
      errors: ['NODE_NOT_FOUND', 'CANNOT_DRAIN'],
    }).handle(async ({ body }) => ({ status: 202, json: await s.cluster.drain(body.nodeId) })),
  ];
}
