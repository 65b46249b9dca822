import FindMyWay from 'find-my-way';
import { LegimError } from '@legim/sdk';
import { readJsonBody } from '@legim/node';
import { bearerGuard } from './auth.js';
import { bearerToken, headerValue, type EdgeRequest } from './edge-request.js';
import { errorReply } from './error-map.js';
import type { Reply } from './reply.js';
import { compileRequestChecks, type RequestChecks } from './request-checks.js';
import { isJsonBody, type Method, type Route } from './route.js';
import { AnswerChecks } from './answer-checks.js';

export interface GatewayAppOptions {
  routes: Route[];
  /** Throws unless the request carries the admin key or an API key with the `admin` scope. */
  authorizeAdmin: (request: EdgeRequest) => Promise<void>;
  clusterSecret: string;
  /** Check every JSON answer against its route's schema (development and tests): a mismatch answers 500. */
  checkAnswers: boolean;
  /** Failures that are bugs or outages, never sent to clients. */
  onInternalError: (request: EdgeRequest, error: unknown) => void;
}

/** What the app answered, and the route pattern that answered it (for metrics and logs). */
export interface Handled {
  reply: Reply;
  route: string | undefined;
}

export interface GatewayApp {
  routes: readonly Route[];
  handle(request: EdgeRequest): Promise<Handled>;
}

type Found = FindMyWay.FindResult<FindMyWay.HTTPVersion.V1>;

interface Compiled {
  route: Route;
  checks: RequestChecks;
}

/**
 * The gateway's HTTP application without a socket: routes the request,
 * checks credentials and inputs against the route's declaration, runs it,
 * and maps any error to its answer. `createRequestListener` puts it on a server.
 */
export function createGatewayApp(options: GatewayAppOptions): GatewayApp {
  const router = FindMyWay({
    caseSensitive: true,
    ignoreTrailingSlash: false,
    exposeHeadRoutes: false,
  } as FindMyWay.Config<FindMyWay.HTTPVersion.V1>);
  const clusterMember = bearerGuard(options.clusterSecret, 'cluster secret');
  const methods = new Set<Method>();
  for (const route of options.routes) {
    const compiled: Compiled = { route, checks: compileRequestChecks(route) };
    router.on(route.method, route.path, () => {}, compiled);
    methods.add(route.method);
  }
  const answers = options.checkAnswers ? new AnswerChecks(options.routes) : undefined;

  const run = async (request: EdgeRequest, url: RequestTarget, found: Found | null): Promise<Reply> => {
    if (!found) throw unrouted(request.method, url.pathname, allowedMethods(url.pathname));
    const { route, checks } = found.store as Compiled;
    if (route.auth === 'admin') await options.authorizeAdmin(request);
    if (route.auth === 'cluster') clusterMember(request);
    const params = { ...(found.params as Record<string, string>) };
    checks.params(params);
    const query = queryObject(url.searchParams);
    checks.query(query);
    const body = isJsonBody(route.body)
      ? await readJsonBody(request.body, route.body.limit, declaredLength(request))
      : undefined;
    checks.body(body);
    const reply = await route.handle({ params, query, body, request, bearer: bearerToken(request) });
    answers?.check(route, reply);
    return reply;
  };

  // A route made only of parameters (`PUT /:name`) matches any path: it does not make
  // `GET /typo` a path that exists with another method, so that stays 404.
  const allowedMethods = (pathname: string): Method[] =>
    [...methods].filter((method) => {
      const found = router.find(method, pathname);
      return found !== null && !/^(\/:[^/]+)+$/.test((found.store as Compiled).route.path);
    });

  return {
    routes: options.routes,
    async handle(request) {
      const url = requestTarget(request.url);
      let route: string | undefined;
      try {
        const found = router.find(request.method as Method, url.pathname);
        route = (found?.store as Compiled | undefined)?.route.path;
        return { reply: await run(request, url, found), route };
      } catch (error) {
        if (!LegimError.is(error)) options.onInternalError(request, error);
        return { reply: errorReply(error), route };
      }
    },
  };
}

interface RequestTarget {
  pathname: string;
  searchParams: URLSearchParams;
}

/**
 * The path and query of a request target, taken apart by hand: `new URL()`
 * would read `//host/…` as another host and throw on some of those.
 */
function requestTarget(target: string): RequestTarget {
  const cut = target.indexOf('?');
  const pathname = cut === -1 ? target : target.slice(0, cut);
  return { pathname, searchParams: new URLSearchParams(cut === -1 ? '' : target.slice(cut + 1)) };
}

function unrouted(method: string, pathname: string, allowed: Method[]): LegimError {
  if (allowed.length === 0) return new LegimError('NOT_FOUND', `no such endpoint: ${method} ${pathname}`);
  return new LegimError('METHOD_NOT_ALLOWED', `use ${allowed.join(' or ')} on ${pathname}`, {
    details: { allow: allowed },
  });
}

/** The query as one string per name; a name given twice is refused rather than half ignored. */
function queryObject(search: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of search) {
    if (Object.hasOwn(query, name)) throw new LegimError('BAD_REQUEST', `query parameter "${name}" is given twice`);
    query[name] = value;
  }
  return query;
}

function declaredLength(request: EdgeRequest): number | undefined {
  const value = headerValue(request, 'content-length');
  return value === undefined ? undefined : Number(value);
}
