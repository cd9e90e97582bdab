import type { IncomingMessage, ServerResponse } from 'node:http';

const TRPC_PREFIX = '/trpc/';

/** Calls to paths no procedure has, and batches, each get one label: a client cannot mint new series. */
export const BATCH_LABEL = 'batch';
export const UNKNOWN_LABEL = 'unknown';

/**
 * Answers counted by procedure and status in plain maps: one lookup and an
 * increment per request, where a prom-client `inc(labels)` would hash the
 * label set each time. The Registry reads the totals when scraped.
 */
export function createRequestCounter(procedures: Iterable<string>) {
  const byProcedure = new Map<string, Map<number, number>>();
  for (const path of procedures) byProcedure.set(path, new Map());
  byProcedure.set(BATCH_LABEL, new Map());
  byProcedure.set(UNKNOWN_LABEL, new Map());
  let rateLimited = 0;

  return {
    /** Counts one finished tRPC answer (other routes are not counted). */
    observe(req: IncomingMessage, res: ServerResponse): void {
      const url = req.url;
      if (url === undefined || !url.startsWith(TRPC_PREFIX)) return;
      const q = url.indexOf('?', TRPC_PREFIX.length);
      const path = q === -1 ? url.slice(TRPC_PREFIX.length) : url.slice(TRPC_PREFIX.length, q);
      const counts = byProcedure.get(path) ?? byProcedure.get(path.includes(',') ? BATCH_LABEL : UNKNOWN_LABEL);
      const status = res.statusCode;
      if (counts !== undefined) counts.set(status, (counts.get(status) ?? 0) + 1);
      if (status === 429) rateLimited++;
    },
    /** Every (procedure, status) total seen so far. */
    *totals(): Generator<[procedure: string, status: number, count: number]> {
      for (const [procedure, counts] of byProcedure) {
        for (const [status, count] of counts) yield [procedure, status, count];
      }
    },
    /** 429 answers: empty API-key buckets and failed-auth limits alike. */
    rateLimited: () => rateLimited,
  };
}
export type RequestCounter = ReturnType<typeof createRequestCounter>;
