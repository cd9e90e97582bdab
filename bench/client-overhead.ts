/**
 * What the SDK adds to a query's latency: `client.users.list.query(input)`
 * against a raw `fetch` of the same URL with the same headers (and the same
 * `res.json()`), one call in flight at a time, alternating A-B / B-A so that
 * drift on a shared machine hits both sides alike. The calls run in blocks;
 * the ratio reported is the median of the blocks' median ratios, so a burst
 * of noise from a neighbour spoils one block, not the answer. The server
 * runs in its own process on 127.0.0.1 with a limit too high to reach.
 *
 * The SDK is measured as users run it: compiled to plain JavaScript (here by
 * esbuild into bench/.tmp/). Imported as TypeScript through tsx, every
 * function expression also pays for tsx's keepNames `__name()` call, which
 * no shipped build has.
 *
 *   npx tsx bench/client-overhead.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type * as ClientModule from '../client/index.js';
import { spawnServer } from './support/spawn-server.js';
import { median } from './support/load.js';

export interface ClientOverheadOptions {
  /** Measured calls per side. @default 3000 */
  iterations?: number;
  /** Blocks the calls are split into. @default 6 */
  blocks?: number;
  /** Unmeasured calls per side first (JIT, connection pool, server cache). @default 300 */
  warmup?: number;
}

export interface ClientOverheadResult {
  iterations: number;
  fetchMedianUs: number;
  sdkMedianUs: number;
  fetchP90Us: number;
  sdkP90Us: number;
  /** Median over blocks of (SDK median / fetch median): 1.10 is the budget (at most 10 % added). */
  ratio: number;
  blockRatios: number[];
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

/** The client entry compiled as a user's build would (dependencies stay imports), loaded from bench/.tmp/. */
async function loadCompiledClient(): Promise<typeof ClientModule> {
  const outfile = fileURLToPath(new URL('./.tmp/client-overhead/client.mjs', import.meta.url));
  await build({
    entryPoints: [fileURLToPath(new URL('../client/index.ts', import.meta.url))],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'warning',
  });
  return (await import(`${pathToFileURL(outfile).href}?t=${Date.now()}`)) as typeof ClientModule;
}

export async function runClientOverhead(opts: ClientOverheadOptions = {}): Promise<ClientOverheadResult> {
  const iterations = opts.iterations ?? 3000;
  const blocks = opts.blocks ?? 6;
  const warmup = opts.warmup ?? 300;
  const { createClient } = await loadCompiledClient();
  const dir = mkdtempSync(join(tmpdir(), 'composure-bench-client-'));
  const server = await spawnServer('server/main.ts', {
    HOST: '127.0.0.1',
    PORT: '0',
    DATABASE_URL: join(dir, 'bench.db'),
    SEED: 'true',
    SEED_USERS: '200',
    RATES_SIMULATOR_PORT: '0',
    RATE_LIMIT_BURST: '1000000000',
    RATE_LIMIT_PER_SECOND: '1000000000',
  });
  try {
    const apiKey = 'demo-alice';
    const input = { limit: 20 };
    const client = createClient({ url: server.url, apiKey });
    // Exactly the URL httpLink builds for this query.
    const url = `${server.url}/trpc/users.list?input=${encodeURIComponent(JSON.stringify(input))}`;
    const headers = { authorization: `Bearer ${apiKey}` };

    const raw = async (): Promise<number> => {
      const start = performance.now();
      const res = await fetch(url, { headers });
      const body = (await res.json()) as { result?: { data?: { data?: unknown[] } } };
      const elapsed = performance.now() - start;
      if (!res.ok || body.result?.data?.data?.length !== 20) throw new Error(`raw fetch failed: ${res.status}`);
      return elapsed;
    };
    const sdk = async (): Promise<number> => {
      const start = performance.now();
      const page = await client.users.list.query(input);
      const elapsed = performance.now() - start;
      if (page.data.length !== 20) throw new Error('sdk query failed');
      return elapsed;
    };

    for (let i = 0; i < warmup; i++) {
      await raw();
      await sdk();
    }
    const rawTimes: number[] = [];
    const sdkTimes: number[] = [];
    const blockRatios: number[] = [];
    const perBlock = Math.max(1, Math.floor(iterations / blocks));
    for (let b = 0; b < blocks; b++) {
      const rawBlock: number[] = [];
      const sdkBlock: number[] = [];
      for (let i = 0; i < perBlock; i++) {
        if (i % 2 === 0) {
          rawBlock.push(await raw());
          sdkBlock.push(await sdk());
        } else {
          sdkBlock.push(await sdk());
          rawBlock.push(await raw());
        }
      }
      blockRatios.push(median(sdkBlock) / median(rawBlock));
      rawTimes.push(...rawBlock);
      sdkTimes.push(...sdkBlock);
    }
    return {
      iterations: perBlock * blocks,
      fetchMedianUs: median(rawTimes) * 1000,
      sdkMedianUs: median(sdkTimes) * 1000,
      fetchP90Us: quantile(rawTimes, 0.9) * 1000,
      sdkP90Us: quantile(sdkTimes, 0.9) * 1000,
      ratio: median(blockRatios),
      blockRatios,
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runClientOverhead();
  const us = (n: number) => `${n.toFixed(0)} µs`;
  console.log(`users.list {limit:20}, ${r.iterations} sequential calls per side, interleaved, in ${r.blockRatios.length} blocks`);
  console.log(`raw fetch   median ${us(r.fetchMedianUs)}  p90 ${us(r.fetchP90Us)}`);
  console.log(`SDK query   median ${us(r.sdkMedianUs)}  p90 ${us(r.sdkP90Us)}`);
  console.log(`ratio SDK / fetch: ${r.ratio.toFixed(3)} (median of blocks ${r.blockRatios.map((x) => x.toFixed(3)).join(', ')}; budget ≤ 1.10)`);
}
