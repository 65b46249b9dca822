import { LegimError } from '@legim/sdk';
import type { ApiKeyRecord, KeyScope } from './api-key.js';

/** Who sent a request: nobody in particular, the gateway's admin key, or an API key. */
export type Principal = { kind: 'anonymous' } | { kind: 'admin' } | { kind: 'key'; key: ApiKeyRecord };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

/** The admin key, and keys scoped `admin`, may do everything. */
export function hasScope(principal: Principal, scope: KeyScope): boolean {
  if (principal.kind === 'admin') return true;
  return principal.kind === 'key' && (principal.key.scopes.includes('admin') || principal.key.scopes.includes(scope));
}

/** Throws UNAUTHORIZED without a key, MISSING_SCOPE with a key that lacks `scope`. */
export function requireScope(principal: Principal, scope: KeyScope): void {
  if (hasScope(principal, scope)) return;
  if (principal.kind === 'anonymous') {
    throw new LegimError(
      'UNAUTHORIZED',
      `this needs an API key with the "${scope}" scope: send Authorization: Bearer <key>`,
    );
  }
  throw new LegimError(
    'MISSING_SCOPE',
    `this API key lacks the "${scope}" scope; ask the operator for a key that has it`,
    {
      details: { scope },
    },
  );
}
