import './schema-formats.js';
import { Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { LegimError } from '@legim/sdk';
import { isJsonBody, type Route } from './route.js';

/** A route's schemas compiled once, at startup, into checks that throw the API's own errors. */
export interface RequestChecks {
  params(value: Record<string, string>): void;
  query(value: Record<string, string>): void;
  body(value: unknown): void;
}

export function compileRequestChecks(route: Route): RequestChecks {
  return {
    params: checker(route.params, (where, message) => new LegimError('BAD_REQUEST', `path ${where}: ${message}`)),
    query: checker(
      route.query ?? EMPTY,
      (where, message) => new LegimError('BAD_REQUEST', `query ${where}: ${message}`),
    ),
    body: isJsonBody(route.body)
      ? checker(route.body.json, (where, message) => new LegimError('BAD_REQUEST', `body ${where}: ${message}`))
      : () => {},
  };
}

const EMPTY = Type.Object({}, { additionalProperties: false });

function checker(schema: TSchema | undefined, fail: (where: string, message: string) => LegimError) {
  if (schema === undefined) return () => {};
  const check: TypeCheck<TSchema> = TypeCompiler.Compile(schema);
  return (value: unknown) => {
    if (check.Check(value)) return;
    const first = check.Errors(value).First();
    throw fail(first?.path ? `"${first.path.slice(1)}"` : 'value', describe(first?.message, first?.value));
  };
}

function describe(message: string | undefined, value: unknown): string {
  const shown = typeof value === 'string' ? ` (got "${value.slice(0, 80)}")` : '';
  return `${(message ?? 'invalid').toLowerCase()}${shown}`;
}
