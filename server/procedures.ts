import { publicProcedure } from './trpc.js';
import { auth } from './middleware/auth.js';
import { rateLimit } from './middleware/rate-limit.js';
import { idempotency } from './middleware/idempotency.js';
import { cache } from './middleware/cache.js';
import type { AuthInfo } from './auth/authenticate.js';

// The order DESIGN.md fixes: auth → rate limit → idempotency (mutations) →
// cache (queries) → handler.
const authed = publicProcedure.use(auth).use(rateLimit);

export const queryProcedure = authed.use(cache);
export const mutationProcedure = authed.use(idempotency);
export type AuthedContext = { auth: AuthInfo };
