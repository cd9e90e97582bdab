import { ERROR_REASONS } from '../../shared/errors.js';
import { IDEMPOTENCY_KINDS } from '../idempotency/errors.js';

/*
 * One problem type per kind of error (RFC 9457 §3.1.1; Stripe's `type` and
 * `code`): a client branches on `type`, never on `title` or `detail`. The
 * URIs are `tag:` URIs (RFC 4151), which §3.1.1 names as the way to a
 * stable identifier that is not meant to be fetched; each is documented in
 * /openapi.json. The one a standard defines is used as is: quota-exceeded,
 * from the RateLimit fields draft (draft-ietf-httpapi-ratelimit-headers,
 * "Problem Types"), registered with IANA.
 */
const TAG = 'tag:composure,2026:problems/';

export interface ProblemType {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  /** What the reference page says about it. */
  readonly description: string;
}

const problem = (slug: string, status: number, title: string, description: string): ProblemType => ({
  type: `${TAG}${slug}`,
  title,
  status,
  description,
});

export const PROBLEM_TYPES = {
  invalidInput: problem('invalid-input', 400, 'Invalid input', 'The input failed validation; `issues` lists each failure (zod issues: path, message, code).'),
  invalidCursor: problem('invalid-cursor', 400, 'Invalid cursor', 'The cursor is not one this query gave with the same filters; start over without it.'),
  badRequest: problem('bad-request', 400, 'Bad request', 'The request is malformed (a body that is not JSON, a repeated parameter).'),
  idempotencyKeyMissing: problem('idempotency-key-missing', 400, 'Idempotency-Key required', 'This route needs an Idempotency-Key header, the same on every retry.'),
  idempotencyKeyInvalid: problem('idempotency-key-invalid', 400, 'Invalid Idempotency-Key', 'The key must be 1–255 printable ASCII characters, bare or as an sf-string.'),
  unauthorized: problem('unauthorized', 401, 'Unauthorized', 'Missing, unknown or revoked API key: send Authorization: Bearer <key>.'),
  notFound: problem('not-found', 404, 'Not found', 'No such resource in this tenant, or no such route.'),
  methodNotAllowed: problem('method-not-allowed', 405, 'Method not allowed', 'The route exists for other methods; see Allow.'),
  conflict: problem('conflict', 409, 'Conflict', 'The request conflicts with the current state.'),
  duplicate: problem('duplicate', 409, 'Already exists', 'A unique field (a user\'s email) is already taken in this tenant.'),
  idempotencyKeyInUse: problem('idempotency-key-in-use', 409, 'Request with this Idempotency-Key in progress', 'A request with this key is still running; retry after `retryAfterMs` to get its answer.'),
  payloadTooLarge: problem('payload-too-large', 413, 'Payload too large', 'The body is larger than the server accepts.'),
  unsupportedMediaType: problem('unsupported-media-type', 415, 'Unsupported media type', 'Send the body as application/json.'),
  idempotencyKeyReused: problem('idempotency-key-reused', 422, 'Idempotency-Key reused with another request', 'The key was used before with a different body; use a new key for a new request.'),
  unprocessable: problem('unprocessable', 422, 'Unprocessable content', 'The request is well-formed but cannot be processed.'),
  quotaExceeded: {
    type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
    title: 'Request cannot be satisfied as assigned quota has been exceeded',
    status: 429,
    description: 'The API key\'s rate limit (or the address\'s failed-authentication limit) is used up; retry after `retryAfterMs`. `violated-policies` names the policy.',
  },
  internal: problem('internal', 500, 'Internal server error', 'An unexpected failure; it is logged with the request id.'),
  upstreamUnavailable: problem('upstream-unavailable', 503, 'Upstream unavailable', 'A service this answer needs (the exchange rates) is down and nothing recent is stored; retry after `retryAfterMs`.'),
  temporaryReducedCapacity: {
    type: 'https://iana.org/assignments/http-problem-types#temporary-reduced-capacity',
    title: 'Temporary reduced capacity',
    status: 503,
    description: 'The server is shedding load; retry after `retryAfterMs`.',
  },
  unavailable: problem('unavailable', 503, 'Service unavailable', 'The server cannot answer now; retry after `retryAfterMs`.'),
} as const satisfies Record<string, ProblemType>;

const BY_KIND: Readonly<Record<string, ProblemType>> = {
  [IDEMPOTENCY_KINDS.missing]: PROBLEM_TYPES.idempotencyKeyMissing,
  [IDEMPOTENCY_KINDS.invalid]: PROBLEM_TYPES.idempotencyKeyInvalid,
};

const BY_REASON: Readonly<Record<string, ProblemType>> = {
  [ERROR_REASONS.invalidCursor]: PROBLEM_TYPES.invalidCursor,
  [ERROR_REASONS.duplicate]: PROBLEM_TYPES.duplicate,
  [ERROR_REASONS.idempotencyInFlight]: PROBLEM_TYPES.idempotencyKeyInUse,
  [ERROR_REASONS.idempotencyMismatch]: PROBLEM_TYPES.idempotencyKeyReused,
  [ERROR_REASONS.rateLimited]: PROBLEM_TYPES.quotaExceeded,
  [ERROR_REASONS.upstreamUnavailable]: PROBLEM_TYPES.upstreamUnavailable,
  // The admission controller's 503 (DESIGN.md "Overload"): the draft's type for shed load.
  overloaded: PROBLEM_TYPES.temporaryReducedCapacity,
};

const BY_STATUS: Readonly<Record<number, ProblemType>> = {
  400: PROBLEM_TYPES.badRequest,
  401: PROBLEM_TYPES.unauthorized,
  404: PROBLEM_TYPES.notFound,
  405: PROBLEM_TYPES.methodNotAllowed,
  409: PROBLEM_TYPES.conflict,
  413: PROBLEM_TYPES.payloadTooLarge,
  415: PROBLEM_TYPES.unsupportedMediaType,
  422: PROBLEM_TYPES.unprocessable,
  429: PROBLEM_TYPES.quotaExceeded,
  503: PROBLEM_TYPES.unavailable,
};

export interface ProblemClues {
  status: number;
  kind?: string | undefined;
  reason?: string | undefined;
  hasIssues: boolean;
}

/**
 * The type of an error answer: its ApiError kind, else its reason, else
 * zod issues, else its status. A reason or status not listed here (one a
 * newer part of the server adds) still gets a type: the status's, or
 * `internal` for 5xx.
 */
export function problemTypeOf({ status, kind, reason, hasIssues }: ProblemClues): ProblemType {
  const known = (kind !== undefined ? BY_KIND[kind] : undefined) ?? (reason !== undefined ? BY_REASON[reason] : undefined);
  if (known) return known;
  if (hasIssues && status === 400) return PROBLEM_TYPES.invalidInput;
  return BY_STATUS[status] ?? (status >= 500 ? (status === 503 ? PROBLEM_TYPES.unavailable : PROBLEM_TYPES.internal) : PROBLEM_TYPES.badRequest);
}
