import { middleware } from '../trpc.js';

// Placeholder until the cache middleware lands.
export const cache = middleware(({ next }) => next());
