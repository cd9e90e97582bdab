import { initTRPC } from '@trpc/server';
import type { Context } from './context.js';
import type { Meta } from './meta.js';
import { ApiError } from './errors.js';
import type { ErrorData } from '../shared/errors.js';

interface Issue {
  path?: readonly PropertyKey[];
  message?: string;
}

function issuesOf(cause: unknown): Issue[] | undefined {
  if (cause && typeof cause === 'object' && 'issues' in cause && Array.isArray(cause.issues)) return cause.issues as Issue[];
  return undefined;
}

// tRPC's default message is the issues as pretty-printed JSON; one readable line is kinder to curl users.
function describeIssues(issues: Issue[]): string {
  const parts = issues.slice(0, 5).map((i) => `${i.path?.length ? i.path.map(String).join('.') : 'input'}: ${i.message ?? 'invalid'}`);
  return `Invalid input: ${parts.join('; ')}${issues.length > 5 ? ` (+${issues.length - 5} more)` : ''}`;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    errorFormatter({ shape, error, ctx }) {
      const dev = ctx?.services.config.NODE_ENV === 'development';
      const data: ErrorData & { stack?: string } = {
        code: shape.data.code,
        httpStatus: shape.data.httpStatus,
      };
      if (shape.data.path) data.path = shape.data.path;
      const issues = error.code === 'BAD_REQUEST' ? issuesOf(error.cause) : undefined;
      if (issues) data.zodIssues = issues;
      if (error.cause instanceof ApiError) {
        if (error.cause.reason) data.reason = error.cause.reason;
        if (error.cause.retryAfterMs !== undefined) data.retryAfterMs = error.cause.retryAfterMs;
      }
      if (dev && shape.data.stack) data.stack = shape.data.stack;
      // An unexpected error's message can carry SQL or paths: only development sees it.
      let message = error.code === 'INTERNAL_SERVER_ERROR' && !dev ? 'Internal server error' : shape.message;
      if (issues) message = describeIssues(issues);
      return { code: shape.code, message, data };
    },
  });

export const router = t.router;
export const middleware = t.middleware;
export const publicProcedure = t.procedure;
export const createCallerFactory = t.createCallerFactory;

/** The root config, for writing exactly the bytes the adapter writes (stored idempotent answers). */
export const rootConfig = t._config;
