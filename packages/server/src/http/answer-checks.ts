import './schema-formats.js';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { isJsonResponse, type Route } from './route.js';
import type { Reply } from './reply.js';

/**
 * Holds the gateway to its API document at run time (development and the
 * test suite): every answer's status must be declared by its route, and a
 * JSON body must match the schema declared for that status. The compiler
 * already checks the handlers' types; this catches what types cannot
 * (formats, ranges, extra fields).
 */
export class AnswerChecks {
  private readonly checks = new Map<Route, Map<number, TypeCheck<TSchema> | undefined>>();
  /** Statuses whose JSON answer may come as text instead. */
  private readonly texts = new Map<Route, Set<number>>();

  constructor(routes: readonly Route[]) {
    for (const route of routes) {
      const byStatus = new Map<number, TypeCheck<TSchema> | undefined>();
      for (const [status, response] of Object.entries(route.responses)) {
        byStatus.set(Number(status), isJsonResponse(response) ? TypeCompiler.Compile(response.json) : undefined);
      }
      const texts = Object.entries(route.responses).filter(([, response]) => isJsonResponse(response) && response.text);
      this.texts.set(route, new Set(texts.map(([status]) => Number(status))));
      this.checks.set(route, byStatus);
    }
  }

  /** Throws (an internal error, answered 500) when the answer is not the declared one. */
  check(route: Route, reply: Reply): void {
    const byStatus = this.checks.get(route);
    if (!byStatus?.has(reply.status)) {
      throw new Error(`${route.method} ${route.path} answered ${reply.status}, which its declaration does not list`);
    }
    const check = byStatus.get(reply.status);
    if (check && reply.json === undefined && reply.bytes && this.texts.get(route)?.has(reply.status)) return;
    if ((check === undefined) !== (reply.json === undefined)) {
      throw new Error(`${route.method} ${route.path} answered ${reply.status} with a body of the wrong kind`);
    }
    if (check && !check.Check(reply.json)) {
      const first = check.Errors(reply.json).First();
      throw new Error(
        `${route.method} ${route.path} answered ${reply.status} off its schema at "${first?.path}": ${first?.message}`,
      );
    }
  }
}
