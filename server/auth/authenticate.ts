import type { IncomingMessage } from 'node:http';
import { LRUCache } from 'lru-cache';
import type { BucketPlan } from '../stores/rate-limit-store.js';
import type { ApiKeysRepo } from '../repos/repos.js';
import { hashApiKey } from './hash-api-key.js';

export interface AuthInfo {
  tenantId: number;
  apiKeyId: number;
  plan: BucketPlan;
}

export interface AuthenticatorOptions {
  apiKeys: ApiKeysRepo;
  defaultPlan: BucketPlan;
  /** How long a looked-up key is trusted before the database is asked again (revocation delay). @default 5000 */
  keyCacheTtlMs?: number;
}

// RFC 6750 §2.1: `Bearer` then one or more spaces and the token; the scheme is case-insensitive.
const BEARER = /^bearer +([\x21-\x7e]{1,512})\s*$/i;

export function bearerToken(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (!header) return null;
  return BEARER.exec(header)?.[1] ?? null;
}

/**
 * Resolves a request's API key to its tenant and plan. Lookups are cached
 * briefly so the hot path pays one SHA-256 and one map lookup, answered
 * synchronously (a hit costs no promise); unknown keys are cached too (as
 * null), so a flood of bad keys cannot hammer the database.
 */
export function createAuthenticator(opts: AuthenticatorOptions) {
  const ttl = opts.keyCacheTtlMs ?? 5000;
  const cache = new LRUCache<string, { info: AuthInfo | null }>({ max: 10_000, ttl });
  const lookUp = async (hash: string): Promise<AuthInfo | null> => {
    const row = await opts.apiKeys.byHash(hash);
    const info: AuthInfo | null = row
      ? {
          tenantId: row.tenantId,
          apiKeyId: row.id,
          plan: {
            name: row.planName ?? opts.defaultPlan.name,
            burst: row.burst ?? opts.defaultPlan.burst,
            perSecond: row.perSecond ?? opts.defaultPlan.perSecond,
          },
        }
      : null;
    cache.set(hash, { info });
    return info;
  };
  // A request is looked at by the fast paths that peek and then by the gate:
  // one SHA-256 per request, not one per look.
  const byRequest = new WeakMap<IncomingMessage, { info: AuthInfo | null }>();
  const authenticate = (req: IncomingMessage): AuthInfo | null | Promise<AuthInfo | null> => {
    const seen = byRequest.get(req);
    if (seen) return seen.info;
    const token = bearerToken(req);
    if (token === null) return null;
    const hash = hashApiKey(token);
    const hit = cache.get(hash);
    if (hit === undefined) return lookUp(hash);
    byRequest.set(req, hit);
    return hit.info;
  };
  /** The key's tenant if it was looked up lately, without asking the database (admission's metric label). */
  const peek = (authorization: string | undefined): number | undefined => {
    const token = authorization === undefined ? null : BEARER.exec(authorization)?.[1];
    return token ? cache.peek(hashApiKey(token))?.info?.tenantId : undefined;
  };
  return Object.assign(authenticate, { peek });
}
// The look-up alone (`peek` is for the one caller that must not touch the database).
export type Authenticator = (req: IncomingMessage) => AuthInfo | null | Promise<AuthInfo | null>;
