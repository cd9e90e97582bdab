import autocannon from 'autocannon';

export interface LoadResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
  /** Server CPU per answered request (µs), when the server process was given. */
  cpuUsPerReq?: number;
}

export interface LoadOptions {
  headers?: Record<string, string>;
  durationS?: number;
  connections?: number;
  /** Paths cycled through (relative to the base URL); default: the URL itself. */
  paths?: string[];
  /** Requests cycled through, for other methods or per-request headers; replaces `paths`. */
  requests?: autocannon.Request[];
  /** The server under load, to measure its CPU per request. */
  server?: { cpuMs(): number };
}

/** One autocannon run against a server on 127.0.0.1; bounded by its duration. */
export async function load(url: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const cpuBefore = opts.server?.cpuMs();
  const result = await autocannon({
    url,
    connections: opts.connections ?? 32,
    duration: opts.durationS ?? 3,
    headers: opts.headers,
    requests: opts.requests ?? opts.paths?.map((path) => ({ method: 'GET' as const, path })),
  });
  const answered = result.requests.total;
  return {
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    ...(opts.server && cpuBefore !== undefined && answered > 0
      ? { cpuUsPerReq: ((opts.server.cpuMs() - cpuBefore) * 1000) / answered }
      : {}),
  };
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/**
 * Runs A and B alternately `runs` times and returns the medians, so drift in
 * a shared, noisy machine hits both sides alike.
 */
export async function interleave(
  runs: number,
  a: () => Promise<LoadResult>,
  b: () => Promise<LoadResult>,
): Promise<{ a: LoadResult; b: LoadResult; ratio: number }> {
  const as: LoadResult[] = [];
  const bs: LoadResult[] = [];
  for (let i = 0; i < runs; i++) {
    as.push(await a());
    bs.push(await b());
  }
  const pick = (rs: LoadResult[]): LoadResult => ({
    rps: median(rs.map((r) => r.rps)),
    p50Ms: median(rs.map((r) => r.p50Ms)),
    p99Ms: median(rs.map((r) => r.p99Ms)),
    non2xx: rs.reduce((n, r) => n + r.non2xx, 0),
    errors: rs.reduce((n, r) => n + r.errors, 0),
    ...(rs.every((r) => r.cpuUsPerReq !== undefined) ? { cpuUsPerReq: median(rs.map((r) => r.cpuUsPerReq ?? 0)) } : {}),
  });
  const ma = pick(as);
  const mb = pick(bs);
  return { a: ma, b: mb, ratio: ma.rps / mb.rps };
}
