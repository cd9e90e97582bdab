import { TRPCError } from '@trpc/server';
import { ERROR_REASONS } from '../../shared/errors.js';
import {
  createUserInputSchema,
  listUsersInputSchema,
  userByIdInputSchema,
  userSchema,
  usersPageSchema,
} from '../../shared/schemas/users.js';
import { ApiError } from '../errors.js';
import { mutationProcedure, queryProcedure } from '../procedures.js';
import { router } from '../trpc.js';
import { toUser } from '../repos/to-user.js';
import { DuplicateError } from '../repos/repos.js';
import { toPage } from '../pagination/to-page.js';

export const usersRouter = router({
  list: queryProcedure
    .meta({
      cacheTtlMs: 60_000,
      cacheTags: ['users'],
      rest: { method: 'GET', path: '/api/users', tag: 'users', summary: 'One page of the tenant\'s users, oldest first' },
    })
    .input(listUsersInputSchema)
    .output(usersPageSchema)
    .query(async ({ ctx, input }) => {
      const { users, cursors } = ctx.services;
      const scope = `users.list|${ctx.auth.tenantId}`;
      const afterId = cursors.decode(scope, input.cursor);
      const rows = await users.page(ctx.auth.tenantId, afterId, input.limit + 1);
      return toPage(rows, input.limit, (row) => cursors.encode(scope, row.id), toUser);
    }),

  byId: queryProcedure
    .meta({
      cacheTtlMs: 60_000,
      cacheTags: ['users'],
      rest: { method: 'GET', path: '/api/users/{id}', tag: 'users', summary: 'One user of the tenant' },
    })
    .input(userByIdInputSchema)
    .output(userSchema)
    .query(async ({ ctx, input }) => {
      const row = await ctx.services.users.byId(ctx.auth.tenantId, input.id);
      // Without a throw, tRPC would answer 200 {"result":{}} for a missing row.
      if (!row) throw new TRPCError({ code: 'NOT_FOUND', message: `No user ${input.id} in this tenant.` });
      return toUser(row);
    }),

  create: mutationProcedure
    .meta({ rest: { method: 'POST', path: '/api/users', tag: 'users', status: 201, summary: 'Creates a user (email unique in the tenant)' } })
    .input(createUserInputSchema)
    .output(userSchema)
    .mutation(async ({ ctx, input }) => {
      try {
        const user = await ctx.commit(userSchema, async (tx) => toUser(await tx.users.insert(ctx.auth.tenantId, input.name, input.email)));
        ctx.services.bus.publish({ type: 'user.created', tenantId: ctx.auth.tenantId, id: user.id });
        return user;
      } catch (err) {
        if (err instanceof DuplicateError) {
          throw new TRPCError({
            code: 'CONFLICT',
            message: `A user with email ${input.email} already exists in this tenant.`,
            cause: new ApiError({ reason: ERROR_REASONS.duplicate }),
          });
        }
        throw err;
      }
    }),
});
