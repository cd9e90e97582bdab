import { z } from 'zod';

/**
 * The input every paginated query accepts: `limit` (1–100, default 20) and an
 * opaque `cursor` from the previous page's `nextCursor`. The object is not
 * strict on purpose: TanStack Query's infinite queries add a `direction` key.
 *
 * @example
 * ```ts
 * pageInputSchema.parse({ limit: 50 }); // { limit: 50 }
 * ```
 */
export const pageInputSchema = z.object({
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.string().max(512).nullish(),
  direction: z.enum(['forward', 'backward']).optional(),
});

export type PageInput = z.input<typeof pageInputSchema>;

/**
 * Builds the schema of one page of `item`: `{ data, nextCursor, hasMore }`.
 * `nextCursor` is null exactly when `hasMore` is false.
 *
 * @example
 * ```ts
 * const usersPage = pageSchema(userSchema);
 * type UsersPage = z.infer<typeof usersPage>;
 * ```
 */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    data: z.array(item),
    nextCursor: z.string().nullable(),
    hasMore: z.boolean(),
  });
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
  hasMore: boolean;
}
