import type { IncomingMessage, ServerResponse } from 'node:http';

/** What a route handler gets: the raw request and response plus the parsed URL. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** The path exactly as sent, not decoded or normalised (`/blobs/../x` stays as is). */
  path: string;
  query: URLSearchParams;
  /** For a prefix route (`/blobs/*`), the rest of the path, still percent-encoded. */
  param: string;
}

export type RouteHandler = (context: RequestContext) => Promise<void>;

export type RouteMatch = { handler: RouteHandler; param: string } | { allowedMethods: string[] };

interface Route {
  method: string;
  path: string;
  prefix: boolean;
  handler: RouteHandler;
}

/**
 * A minimal method + path router: exact paths, or prefixes written `/x/*`
 * whose remainder becomes `param`. The node has a handful of endpoints, so a
 * linear scan beats anything cleverer.
 */
export class Router {
  readonly #routes: Route[] = [];

  on(method: string, pattern: string, handler: RouteHandler): this {
    const prefix = pattern.endsWith('/*');
    this.#routes.push({ method, path: prefix ? pattern.slice(0, -1) : pattern, prefix, handler });
    return this;
  }

  /** The handler for `method` and `path`; the allowed methods if only the method is wrong; else `undefined`. */
  match(method: string, path: string): RouteMatch | undefined {
    const allowedMethods: string[] = [];
    for (const route of this.#routes) {
      const param = matchPath(route, path);
      if (param === undefined) continue;
      if (route.method === method) return { handler: route.handler, param };
      allowedMethods.push(route.method);
    }
    return allowedMethods.length > 0 ? { allowedMethods } : undefined;
  }
}

function matchPath(route: Route, path: string): string | undefined {
  if (!route.prefix) return path === route.path ? '' : undefined;
  return path.startsWith(route.path) ? path.slice(route.path.length) : undefined;
}

/** Splits a request target into path and query without normalising `..` segments away. */
export function splitRequestTarget(target: string): { path: string; query: URLSearchParams } {
  const queryStart = target.indexOf('?');
  if (queryStart === -1) return { path: target, query: new URLSearchParams() };
  return { path: target.slice(0, queryStart), query: new URLSearchParams(target.slice(queryStart + 1)) };
}
