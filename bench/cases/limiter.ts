import { runLimiterBench } from '../limiter.js';
import type { BenchResult } from '../support/types.js';

/** µs per in-memory decision and bytes per key with a million keys; Redis decisions/s when REDIS_URL is set. */
export async function limiter(): Promise<BenchResult> {
  const r = await runLimiterBench();
  return {
    measures: 'µs per in-memory decision (≤ 2) and bytes per key at 1 000 000 keys (≤ 250)',
    ratio: r.usPerDecision,
    target: 2,
    comparison: '<=',
    holds: r.usPerDecision <= 2 && r.bytesPerKey <= 250,
    a: { usPerDecision: r.usPerDecision, bytesPerKey: r.bytesPerKey },
    b: { redisDecisionsPerSecAtConcurrency50: r.redisDecisionsPerSec },
    extra: { bytesPerKey: r.bytesPerKey, bytesTarget: 250 },
  };
}
