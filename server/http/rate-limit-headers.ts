import type { BucketPlan, RateLimitDecision } from '../stores/rate-limit-store.js';

/*
 * RateLimit header fields for HTTP, draft-ietf-httpapi-ratelimit-headers
 * (the working group's text as of draft -10, after issue #149). Both fields
 * are Structured Field Lists (RFC 9651) of one item: the policy name as an
 * sf-string with integer parameters.
 */

// Policy names are the few plan names: each one's sf-string is made once, not on every answer.
const SF_STRINGS_MAX = 1000;
const sfStrings = new Map<string, string>();

/** sf-string (RFC 9651 §3.3.3): printable ASCII, `"` and `\` escaped. */
function sfString(value: string): string {
  const known = sfStrings.get(value);
  if (known !== undefined) return known;
  if (/[^\x20-\x7e]/.test(value)) {
    throw new RangeError(`policy name must be printable ASCII for an sf-string, got ${JSON.stringify(value)}`);
  }
  const text = `"${value.replace(/[\\"]/g, '\\$&')}"`;
  if (sfStrings.size < SF_STRINGS_MAX) sfStrings.set(value, text);
  return text;
}

/**
 * `"default";q=100;w=5`. "q" is the quota, the bucket's burst (§ "Quota
 * Parameter"); "w" the window in whole seconds, non-zero (§ "Window
 * Parameter"): the time to refill an empty bucket, rounded up, so q/w never
 * promises more than the refill rate.
 */
export function rateLimitPolicyHeader(plan: BucketPlan): string {
  const window = Math.max(1, Math.ceil(plan.burst / plan.perSecond));
  return `${sfString(plan.name)};q=${Math.floor(plan.burst)};w=${window}`;
}

/**
 * Retry-After as delay-seconds (RFC 9110 §10.2.3) from a wait in ms: whole
 * seconds rounded up, so never earlier than the store's answer, and at
 * least 1, since 0 would invite an immediate retry that fails.
 */
export function retryAfterSeconds(retryAfterMs: number): number {
  return Math.max(1, Math.ceil(retryAfterMs / 1000));
}

/**
 * The draft's "t": "the number of seconds until additional quota associated
 * with the quota policy is made available" (-10; earlier drafts said until
 * the quota "resets"). For a token bucket that is the next whole token, not
 * a full bucket: the client "MUST NOT assume that all its service limit will
 * be fully restored" then. A rejection gives the Retry-After moment, since
 * Retry-After "SHOULD NOT reference a point in time earlier than" "t" and a
 * client reading only RateLimit then comes back when it will be admitted.
 */
function secondsUntilMoreQuota(plan: BucketPlan, decision: RateLimitDecision): number {
  if (!decision.allowed) return retryAfterSeconds(decision.retryAfterMs);
  if (decision.remaining >= decision.limit) return 0;
  // After the next token the bucket holds remaining + 1 and needs
  // (limit − remaining − 1) more; resetMs is rounded up, so this is too.
  const nextTokenMs = decision.resetMs - ((decision.limit - decision.remaining - 1) * 1000) / plan.perSecond;
  return Math.max(1, Math.ceil(nextTokenMs / 1000));
}

/** `"default";r=42;t=1`: "r" the remaining whole quota units (§ "Remaining Parameter"). */
export function rateLimitHeader(plan: BucketPlan, decision: RateLimitDecision): string {
  const remaining = Math.max(0, decision.remaining);
  return `${sfString(plan.name)};r=${remaining};t=${secondsUntilMoreQuota(plan, decision)}`;
}
