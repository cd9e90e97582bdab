import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { idempotentReplay } from './idempotent-replay.js';
import { cacheFastPath } from './cache-fast-path.js';
import { leanPath } from './lean-path.js';

/**
 * A handler tried before the tRPC adapter, for answers the adapter cannot
 * give (byte-level replays, 304s) or gives slowly (cache hits, single GET queries). It returns
 * true when it answered; false hands the request on unchanged.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse, services: Services) => boolean | Promise<boolean>;

export const fastPaths: readonly FastPath[] = [idempotentReplay, cacheFastPath, leanPath];
