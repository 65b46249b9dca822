import { Type } from '@sinclair/typebox';
import type { ApiKey } from '@legim/sdk';
import { ApiKeySchema, CreatedKeySchema } from '@legim/sdk/protocol';
import type { ListedKey } from '../../keys/key-service.js';
import { parseNewKey } from '../../keys/new-key.js';
import { route, type Route } from '../route.js';
import type { GatewayServices } from './gateway-services.js';

const NEW_KEY_LIMIT = 16 * 1024;

/** API keys for uploaders (`POST`, `GET`, `DELETE /v1/keys`), behind the admin key. */
export function keyRoutes(s: GatewayServices): Route[] {
  return [
    route({
      id: 'createKey',
      method: 'POST',
      path: '/v1/keys',
      summary: 'Make an API key; its secret is in this answer only',
      tag: 'keys',
      auth: 'admin',
      body: {
        // parseNewKey refuses what the schema lets through (names, ranges), with messages of its own.
        json: Type.Object(
          {
            name: Type.String(),
            scopes: Type.Array(Type.String()),
            quotas: Type.Optional(Type.Object({}, { additionalProperties: true })),
          },
          { additionalProperties: false },
        ),
        limit: NEW_KEY_LIMIT,
      },
      responses: { 201: { description: 'The key, with its secret', json: CreatedKeySchema } },
      errors: ['INVALID_OPTION'],
    }).handle(async ({ body }) => {
      const created = await s.keys.create(parseNewKey(body), Date.now());
      return { status: 201, json: { ...keyView(created), secret: created.secret } };
    }),
    route({
      id: 'listKeys',
      method: 'GET',
      path: '/v1/keys',
      summary: 'Every API key, with what its live files hold',
      tag: 'keys',
      auth: 'admin',
      responses: {
        200: {
          description: 'The keys',
          json: Type.Object({ keys: Type.Array(ApiKeySchema) }, { additionalProperties: false }),
        },
      },
    }).handle(async () => ({ status: 200, json: { keys: (await s.keys.list(Date.now())).map(keyView) } })),
    route({
      id: 'revokeKey',
      method: 'DELETE',
      path: '/v1/keys/:id',
      summary: 'Revoke an API key: refused at once by every gateway; its files stay',
      tag: 'keys',
      auth: 'admin',
      params: Type.Object({ id: Type.String() }),
      responses: { 200: { description: 'The key as revoked', json: ApiKeySchema } },
      errors: ['KEY_NOT_FOUND'],
    }).handle(async ({ params }) => ({ status: 200, json: keyView(await s.keys.revoke(params.id, Date.now())) })),
  ];
}

function keyView({ key, usage }: ListedKey): ApiKey {
  return {
    id: key.id,
    name: key.name,
    scopes: key.scopes,
    quotas: key.quotas,
    createdAt: new Date(key.createdAt).toISOString(),
    revokedAt: key.revokedAt === null ? null : new Date(key.revokedAt).toISOString(),
    usage,
  };
}
