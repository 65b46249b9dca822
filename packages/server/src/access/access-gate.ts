import { LegimError } from '@legim/sdk';
import type { KeyService } from '../keys/key-service.js';
import { requireScope, type Principal } from '../keys/principal.js';
import { rateLimited, type RateLimiter } from '../rate-limit/rate-limiter.js';
import { tightest } from '../rate-limit/rate-limit-headers.js';
import type { BucketDecision } from '../rate-limit/token-bucket.js';

/** Who may upload: anyone (`open`, for a private network) or API keys with the `upload` scope (`key`). */
export type UploadMode = 'open' | 'key';

/** What a request wants to do, as far as access goes. */
export type GatedAction = 'upload' | 'download' | 'read' | 'admin';

export interface AccessRequest {
  action: GatedAction;
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The client's address (see `clientAddress`). */
  address: string;
}

export interface Admitted {
  principal: Principal;
  /** The bucket closest to refusing, for the `RateLimit-*` headers; undefined when no limit applies. */
  rate: BucketDecision | undefined;
}

/**
 * Everything a request goes through before its work starts: failed
 * authentications counted per address (an address that failed too often
 * is refused before its key is even looked at), the key, its scope, and
 * the rate limits of the key and the address. The admin key is never rate limited.
 */
export class AccessGate {
  constructor(
    private readonly keys: KeyService,
    private readonly limiter: RateLimiter,
    private readonly uploads: UploadMode,
  ) {}

  /** Throws UNAUTHORIZED, KEY_REVOKED, MISSING_SCOPE or RATE_LIMITED; otherwise who it is and its rate. */
  async admit(request: AccessRequest): Promise<Admitted> {
    const principal = await this.authenticate(request);
    this.authorize(request.action, principal);
    if (principal.kind === 'admin' || (request.action !== 'upload' && request.action !== 'download')) {
      return { principal, rate: undefined };
    }
    const { action, address } = request;
    const decisions = [
      principal.kind === 'key' ? await this.limiter.take({ action, keyId: principal.key.id }) : undefined,
      await this.limiter.take({ action, address }),
    ];
    const rate = tightest(decisions);
    if (rate && !rate.allowed) throw rateLimited(rate, `${action}s`);
    return { principal, rate };
  }

  /**
   * The admin routes: the admin key, or an API key with the `admin` scope.
   * Refusals name the admin key, which is what most callers of these routes hold.
   */
  async admitAdmin(authorization: string | undefined, address: string): Promise<void> {
    if (authorization === undefined) {
      throw new LegimError('UNAUTHORIZED', 'this endpoint needs the admin key: send Authorization: Bearer <admin key>');
    }
    try {
      await this.admit({ action: 'admin', authorization, address });
    } catch (error) {
      if (LegimError.is(error) && error.code === 'UNAUTHORIZED') {
        throw new LegimError('UNAUTHORIZED', 'wrong admin key (and not an API key of this gateway either)');
      }
      throw error;
    }
  }

  /**
   * Whom an uploader's configuration (`GET /v1/sharex`) is for: an API key
   * with the `upload` scope, or nobody when uploads are open. Never the
   * admin key: it would end up in a file people pass around.
   */
  async admitUploader(authorization: string | undefined, address: string): Promise<Principal> {
    const principal = await this.authenticate({ action: 'upload', authorization, address });
    if (principal.kind === 'admin') {
      throw new LegimError(
        'FORBIDDEN',
        'the admin key is never put into an uploader configuration: send an API key with the upload scope (legim keys create)',
      );
    }
    this.authorize('upload', principal);
    return principal;
  }

  private async authenticate({ authorization, address }: AccessRequest): Promise<Principal> {
    if (authorization === undefined) return this.keys.authenticate(undefined);
    const failures = await this.limiter.take({ action: 'auth-failure', address }, 0);
    if (failures && !failures.allowed) throw rateLimited(failures, 'failed authentications from this address');
    try {
      return await this.keys.authenticate(authorization);
    } catch (error) {
      if (LegimError.is(error) && error.statusCode === 401) {
        await this.limiter.take({ action: 'auth-failure', address });
      }
      throw error;
    }
  }

  private authorize(action: GatedAction, principal: Principal): void {
    if (action === 'read' || action === 'admin') return requireScope(principal, action);
    // With open uploads a key is optional; one that is sent must still allow uploading.
    if (action === 'upload' && (this.uploads === 'key' || principal.kind === 'key')) requireScope(principal, 'upload');
  }
}
