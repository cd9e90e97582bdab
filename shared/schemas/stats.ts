import { z } from 'zod';

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
 * in cents.
 *
 * @example
 * ```ts
 * const { totalsByCurrency } = statsSummarySchema.parse(data);
 * ```
 */
export const statsSummarySchema = z.object({
  users: z.number().int().nonnegative(),
  payments: z.number().int().nonnegative(),
  totalsByCurrency: z.record(z.string(), z.number().int()),
});
export type StatsSummary = z.infer<typeof statsSummarySchema>;
