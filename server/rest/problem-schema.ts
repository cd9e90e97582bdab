import { z } from 'zod';

/**
 * An error answer on /api (RFC 9457 §3): the standard members, then the
 * extension members a client acts on. `code` is the tRPC error code, the
 * same vocabulary as /trpc (Stripe's `code` beside its `type`). The
 * OpenAPI document's `Problem` schema is this one.
 */
export const problemSchema = z
  .object({
    type: z.string().describe('The problem type, a stable URI: branch on it (see the table in the description above).'),
    title: z.string().describe('A short summary of the problem type; the same for every answer of that type.'),
    status: z.number().int().min(400).max(599).describe('The HTTP status code, repeated for convenience.'),
    detail: z.string().describe('What went wrong in this request, for a person.'),
    code: z.string().optional().describe('The tRPC error code (the same as /trpc answers with), e.g. NOT_FOUND.'),
    retryAfterMs: z.number().nonnegative().optional().describe('How long to wait before a retry, in ms (Retry-After gives whole seconds).'),
    issues: z.array(z.unknown()).optional().describe('The zod issues of an invalid input: each has a path, a message and a code.'),
    'violated-policies': z.array(z.string()).optional().describe('quota-exceeded only: the names of the RateLimit policies used up.'),
  })
  .describe('Problem details (RFC 9457), as application/problem+json.');

export type Problem = z.infer<typeof problemSchema>;
