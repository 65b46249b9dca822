import type { TSchema } from '@sinclair/typebox';
import { ERROR_CODES, type ErrorCode } from '@legim/sdk';
import { ErrorBodySchema } from '@legim/sdk/protocol';
import { isJsonBody, isJsonResponse, type Route } from './route.js';

type Json = Record<string, unknown>;

const SECURITY: Record<Route['auth'], Json[] | undefined> = {
  public: undefined,
  'upload-key': [{ apiKey: [] }, {}],
  'read-key': [{ adminKey: [] }, { apiKey: [] }],
  'delete-token': [{ deleteToken: [] }, { adminKey: [] }],
  admin: [{ adminKey: [] }, { apiKey: [] }],
  cluster: [{ clusterSecret: [] }],
};

/**
 * The OpenAPI 3.1 document of the gateway, written from its route table:
 * the same schemas check requests and answers, so the document cannot
 * describe an API the gateway does not serve.
 */
export function openApiDocument(routes: readonly Route[], version: string): Json {
  const components = new Components();
  const paths: Record<string, Json> = {};
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, components) };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Legim gateway',
      version,
      description: 'Images with a download limit and a time to live, on replicated storage nodes (docs/api.md).',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        adminKey: { type: 'http', scheme: 'bearer', description: 'The admin key (legim up prints where it is)' },
        deleteToken: { type: 'http', scheme: 'bearer', description: "The file's delete token, from its upload" },
        clusterSecret: { type: 'http', scheme: 'bearer', description: 'The cluster secret: storage nodes and workers' },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key (legim keys create): upload scope for uploads, read scope to list its files, admin scope for the admin routes',
        },
      },
    },
  };
}

function operation(route: Route, components: Components): Json {
  const parameters = [
    ...Object.entries(route.params?.properties ?? {}).map(([name, schema]) => ({
      name,
      in: 'path',
      required: true,
      schema: components.use(schema),
    })),
    ...Object.entries(route.query?.properties ?? {}).map(([name, schema]) => ({
      name,
      in: 'query',
      required: route.query?.required?.includes(name) ?? false,
      schema: components.use(schema),
    })),
  ];
  return {
    operationId: route.id,
    summary: route.summary,
    tags: [route.tag],
    ...(SECURITY[route.auth] && { security: SECURITY[route.auth] }),
    ...(parameters.length > 0 && { parameters }),
    ...(route.body && { requestBody: requestBody(route, components) }),
    responses: { ...answers(route, components), ...errors(route, components) },
  };
}

function requestBody(route: Route, components: Components): Json {
  const body = route.body!;
  if (isJsonBody(body)) {
    return { required: true, content: { 'application/json': { schema: components.use(body.json) } } };
  }
  const content = Object.fromEntries(
    Object.entries(body.contentTypes).map(([type, { description, schema }]) => [
      type,
      { ...(schema && { schema: components.use(schema) }), 'x-description': description },
    ]),
  );
  return { required: true, content };
}

function answers(route: Route, components: Components): Json {
  return Object.fromEntries(
    Object.entries(route.responses).map(([status, response]) => {
      if (isJsonResponse(response)) {
        const schema = components.use(response.json);
        const text = response.text && {
          'text/plain': { schema: { type: 'string', description: response.text.description } },
        };
        return [status, { description: response.description, content: { 'application/json': { schema }, ...text } }];
      }
      const content = response.contentType ? { content: { [response.contentType]: {} } } : {};
      return [status, { description: response.description, ...content }];
    }),
  );
}

/** Error answers by status, naming the codes each may carry. */
function errors(route: Route, components: Components): Json {
  const codes = new Set<ErrorCode>([...(route.errors ?? []), 'INTERNAL']);
  if (route.params || route.query || route.body) codes.add('BAD_REQUEST');
  if (isJsonBody(route.body)) codes.add('PAYLOAD_TOO_LARGE');
  if (route.auth === 'admin' || route.auth === 'cluster') codes.add('UNAUTHORIZED');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CODES[code], [...(byStatus.get(ERROR_CODES[code]) ?? []), code]);
  const schema = components.use(ErrorBodySchema);
  return Object.fromEntries(
    [...byStatus].map(([status, list]) => [
      String(status),
      { description: list.join(', '), content: { 'application/json': { schema } } },
    ]),
  );
}

/** Schemas with an `$id` become components, referred to by `$ref` wherever they appear. */
class Components {
  readonly schemas: Record<string, Json> = {};

  use(schema: TSchema): unknown {
    return this.walk(schema);
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.walk(item));
    if (value === null || typeof value !== 'object') return value;
    const { $id, ...rest } = value as Json;
    const copy = Object.fromEntries(Object.entries(rest).map(([key, item]) => [key, this.walk(item)]));
    if (typeof $id !== 'string') return copy;
    this.schemas[$id] ??= copy;
    return { $ref: `#/components/schemas/${$id}` };
  }
}
