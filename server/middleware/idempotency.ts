import { middleware } from '../trpc.js';

// Placeholder until the idempotency middleware lands.
export const idempotency = middleware(({ next }) => next());
