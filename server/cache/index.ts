import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { EventBus } from '../events/bus.js';

// Placeholder seam: replaced by the query cache.
export interface QueryCache {
  close(): Promise<void>;
}

export function createQueryCache(_opts: { config: Config; bus: EventBus; log: Logger }): QueryCache {
  return { close: async () => {} };
}
