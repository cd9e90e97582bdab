import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Services } from '../services.js';
import { idempotentReplay } from './idempotent-replay.js';
import { cacheFastPath } from './cache-fast-path.js';
import { leanPath } from './lean-path.js';
import { leanBatch } from './lean-batch.js';
import { leanMutation } from './lean-mutation.js';

/**
 * A handler tried before the tRPC adapter, for answers the adapter cannot
 * give (byte-level replays, 304s) or gives slowly (cache hits, single GET queries). It returns
 * true when it answered; false hands the request on unchanged.
 */
export type FastPath = (req: IncomingMessage, res: ServerResponse, services: Services) => boolean | Promise<boolean>;

/**
 * Tried before admission control: cache hits and their 304s cost a key
 * hash and two map lookups, never the database (an unknown key's one
 * look-up is cached, and failures are limited per address), so they are
 * never shed and never wait behind expensive requests.
 */
export const cheapPaths: readonly FastPath[] = [cacheFastPath];

/**
 * Tried after admission: they read the database or run procedures. The
 * lean mutation path reads the body: it comes last, after the replay that
 * may have handed one back.
 */
export const fastPaths: readonly FastPath[] = [idempotentReplay, leanPath, leanBatch, leanMutation];
