import { z } from 'zod';
import { pageInputSchema, pageSchema } from './pagination.js';

/**
 * A user of one tenant. `createdAt` is an ISO-8601 string on the wire.
 *
 * @example
 * ```ts
 * const user: User = userSchema.parse(await res.json());
 * ```
 */
export const userSchema = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  email: z.string(),
  createdAt: z.string(),
});
export type User = z.infer<typeof userSchema>;

/**
 * Input of `users.create`: a name and an email, unique within the tenant.
 *
 * @example
 * ```ts
 * createUserInputSchema.parse({ name: 'Ada', email: 'ada@example.com' });
 * ```
 */
export const createUserInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  email: z.email().max(320).transform((e) => e.toLowerCase()),
});
export type CreateUserInput = z.input<typeof createUserInputSchema>;

/**
 * Input of `users.byId`.
 *
 * @example
 * ```ts
 * userByIdInputSchema.parse({ id: 42 });
 * ```
 */
export const userByIdInputSchema = z.object({ id: z.number().int().positive() });

/**
 * Input of `users.list`: the common page input; may be omitted.
 *
 * @example
 * ```ts
 * listUsersInputSchema.parse({ limit: 50, cursor: page.nextCursor });
 * ```
 */
export const listUsersInputSchema = pageInputSchema.prefault({});
export type ListUsersInput = z.input<typeof listUsersInputSchema>;

/**
 * One page of users.
 *
 * @example
 * ```ts
 * const page = usersPageSchema.parse(body.result.data);
 * ```
 */
export const usersPageSchema = pageSchema(userSchema);
export type UsersPage = z.infer<typeof usersPageSchema>;
