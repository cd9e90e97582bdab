import { z } from 'zod';
import { centsTotalSchema } from './money.js';

/**
 * Input of `stats.summary`: nothing (an empty object, or none).
 *
 * @example
 * ```ts
 * statsInputSchema.parse({});
 * ```
 */
export const statsInputSchema = z.object({}).optional();

/**
 * The tenant's aggregate: user and payment counts and totals per currency
 * in cents, exact (see `centsTotalSchema`: a number, or a string of digits
 * past 2^53−1).
 *
 * @example
 * ```ts
 * const { totalsByCurrency } = statsSummarySchema.parse(data);
 * ```
 */
export const statsSummarySchema = z.object({
  users: z.number().int().nonnegative(),
  payments: z.number().int().nonnegative(),
  totalsByCurrency: z.record(z.string(), centsTotalSchema),
});
export type StatsSummary = z.infer<typeof statsSummarySchema>;
