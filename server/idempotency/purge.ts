import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { IdempotencyStore } from './store.js';

export interface PurgeReport {
  deleted: number;
  /** DELETE statements run; requests were served between any two of them. */
  batches: number;
}

export interface PurgeJobOptions {
  store: Pick<IdempotencyStore, 'purgeBatch'>;
  /** Stored results older than this are deleted (`IDEMPOTENCY_TTL_MS`). */
  ttlMs: number;
  /** Time between runs (`IDEMPOTENCY_PURGE_INTERVAL_MS`). */
  intervalMs: number;
  /** Rows per DELETE: small, so one statement never holds the writer long. */
  batchSize: number;
  now: () => number;
  log: Logger;
}

export interface PurgeJob {
  /** One full run now (or the run already under way). */
  run(): Promise<PurgeReport>;
  /** Stops the timer and waits for a run under way to finish its batch. */
  stop(): Promise<void>;
}

/**
 * Deletes expired idempotency results every `intervalMs`, `batchSize` rows
 * per statement, yielding to the event loop between statements so requests
 * never wait behind more than one small batch.
 */
export function startPurgeJob(opts: PurgeJobOptions): PurgeJob {
  const { store, ttlMs, intervalMs, batchSize, now, log } = opts;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  let stopped = false;
  let running: Promise<PurgeReport> | null = null;

  const purge = async (): Promise<PurgeReport> => {
    const report: PurgeReport = { deleted: 0, batches: 0 };
    // The cutoff is fixed per run: rows expiring meanwhile wait for the next one, so a run always ends.
    const cutoff = now() - ttlMs;
    while (!stopped) {
      const deleted = await store.purgeBatch(cutoff, batchSize);
      report.deleted += deleted;
      report.batches++;
      if (deleted < batchSize) break;
      await yieldToEventLoop();
    }
    if (report.deleted > 0) log.info(report, 'purged expired idempotency keys');
    return report;
  };

  const run = (): Promise<PurgeReport> => {
    running ??= purge().finally(() => {
      running = null;
    });
    return running;
  };

  const timer = setInterval(() => {
    run().catch((err: unknown) => log.error({ err }, 'idempotency purge failed'));
  }, intervalMs);
  // The purge must never keep a process alive that has nothing else to do.
  timer.unref();

  return {
    run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
