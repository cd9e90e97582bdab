import { router } from '../trpc.js';
import { usersRouter } from './users.js';
import { paymentsRouter } from './payments.js';
import { statsRouter } from './stats.js';
import { ratesRouter } from './rates.js';

export const appRouter = router({
  users: usersRouter,
  payments: paymentsRouter,
  stats: statsRouter,
  rates: ratesRouter,
});

/** The router's type: all the client imports from the server. */
export type AppRouter = typeof appRouter;
