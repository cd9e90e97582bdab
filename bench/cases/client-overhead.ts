import { runClientOverhead } from '../client-overhead.js';
import { result, type BenchResult } from '../support/types.js';

/** SDK query latency against a raw fetch of the same URL (lower is better). */
export async function clientOverhead(): Promise<BenchResult> {
  const r = await runClientOverhead();
  return result({
    measures: 'SDK query latency vs a raw fetch of the same URL (lower is better)',
    ratio: r.ratio,
    target: 1.1,
    comparison: '<=',
    a: { sdkMedianUs: r.sdkMedianUs, sdkP90Us: r.sdkP90Us },
    b: { fetchMedianUs: r.fetchMedianUs, fetchP90Us: r.fetchP90Us },
    extra: { iterations: r.iterations, blockRatios: r.blockRatios },
  });
}
