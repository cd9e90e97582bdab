import { z } from 'zod';

export * from './error-codes.js';

/**
 * The shape of `error.data` in every error the API sends.
 *
 * @example
 * ```ts
 * const data = errorDataSchema.parse(body.error.data);
 * ```
 */
export const errorDataSchema = z.object({
  code: z.string(),
  httpStatus: z.number().int(),
  path: z.string().optional(),
  reason: z.string().optional(),
  retryAfterMs: z.number().nonnegative().optional(),
  zodIssues: z.array(z.unknown()).optional(),
});
export type ErrorData = z.infer<typeof errorDataSchema>;
