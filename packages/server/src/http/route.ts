import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { ErrorCode } from '@legim/sdk';
import type { EdgeRequest } from './edge-request.js';
import type { Reply, ReplyHeaders, StreamBody } from './reply.js';

export type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call a route. `admin` and `cluster` are checked by the edge before
 * the route runs; `delete-token` routes check the token themselves (it is the
 * file's), and the edge passes the bearer token on; `upload-key` routes ask
 * the access gate (an API key with the `upload` scope when the gateway runs
 * `--uploads key`, optional otherwise); `read-key` routes ask it for the admin
 * key or an API key with the `read` scope.
 */
export type Auth = 'public' | 'upload-key' | 'read-key' | 'delete-token' | 'admin' | 'cluster';

/** A JSON answer and its schema. */
export interface JsonResponse<S extends TSchema = TSchema> {
  description: string;
  json: S;
  /** The same answer as `text/plain` lines, for clients that ask for text (curl, shell scripts). */
  text?: { description: string };
}

/** Any other answer: bytes of a declared type, a stream, or nothing. */
export interface OtherResponse {
  description: string;
  /** Omitted: no body. */
  contentType?: string;
}

export type Responses = Record<number, JsonResponse | OtherResponse>;

/** A JSON body read and checked by the edge. */
export interface JsonBody<S extends TSchema = TSchema> {
  json: S;
  /** Largest body read, in bytes. */
  limit: number;
}

/** A body the route streams itself; the content types are for the API document. */
export interface StreamedBody {
  contentTypes: Record<string, { description: string; schema?: TSchema }>;
}

/** One answer a route may give, typed by its status: a JSON body must match that status's schema. */
export type ReplyOf<R extends Responses> = {
  [S in keyof R & number]: R[S] extends JsonResponse<infer T>
    ? | { status: S; headers?: ReplyHeaders; json: Static<T> }
      | (R[S] extends { text: object } ? { status: S; headers: ReplyHeaders; bytes: Buffer } : never)
    : { status: S; headers?: ReplyHeaders; bytes?: Buffer; stream?: StreamBody };
}[keyof R & number];

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: EdgeRequest;
  /** `Authorization: Bearer <token>`, for routes that check the token themselves. */
  bearer: string | undefined;
}

type StaticOr<S, Default> = S extends TSchema ? Static<S> : Default;

export interface RouteSpec<P extends TObject | undefined, Q extends TObject | undefined, B, R extends Responses> {
  /** The OpenAPI operationId. */
  id: string;
  method: Method;
  /** `:name` captures a segment. */
  path: string;
  summary: string;
  tag: 'files' | 'downloads' | 'page' | 'keys' | 'cluster' | 'probes' | 'operations' | 'index' | 'internal';
  auth: Auth;
  params?: P;
  query?: Q;
  body?: B;
  responses: R;
  /** Errors this route answers besides the ones every route may give; for the API document. */
  errors?: ErrorCode[];
}

export type RouteHandler<P, Q, B, R extends Responses> = (
  context: RouteContext<
    StaticOr<P, Record<string, never>>,
    StaticOr<Q, Record<string, never>>,
    B extends JsonBody<infer S> ? Static<S> : undefined
  >,
) => Promise<ReplyOf<R>>;

/** A route with its types erased, as the table keeps it. */
export interface Route {
  id: string;
  method: Method;
  path: string;
  summary: string;
  tag: string;
  auth: Auth;
  params?: TObject;
  query?: TObject;
  body?: JsonBody | StreamedBody;
  responses: Responses;
  errors?: ErrorCode[];
  handle(context: RouteContext<unknown, unknown, unknown>): Promise<Reply>;
}

/**
 * Declares a route, then its handler: `route({...}).handle(async (context) => reply)`.
 * In two steps so the handler is typed from the finished declaration: its
 * context from the schemas, its answers from `responses`.
 */
export function route<
  P extends TObject | undefined = undefined,
  Q extends TObject | undefined = undefined,
  B extends JsonBody | StreamedBody | undefined = undefined,
  const R extends Responses = Responses,
>(spec: RouteSpec<P, Q, B, R>): { handle(handler: RouteHandler<P, Q, B, R>): Route } {
  return { handle: (handler) => ({ ...spec, handle: handler }) };
}

export function isJsonBody(body: JsonBody | StreamedBody | undefined): body is JsonBody {
  return body !== undefined && 'json' in body;
}

export function isJsonResponse(response: JsonResponse | OtherResponse | undefined): response is JsonResponse {
  return response !== undefined && 'json' in response;
}
