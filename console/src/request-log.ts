import type { FetchLike } from 'composure-client';

/** One request the console's client sent, as the strip shows it. */
export interface LoggedRequest {
  readonly id: number;
  readonly at: number;
  readonly method: string;
  readonly procedure: string;
  readonly status: number | 'failed';
  readonly cacheStatus: string | null;
  /** `r` of the RateLimit header: requests left in this window. */
  readonly remaining: number | null;
  readonly retryAfter: string | null;
  readonly replayed: boolean;
  readonly idempotencyKey: string | null;
  readonly ms: number;
}

type Listener = () => void;

/** What the requests sent under one Idempotency-Key came to. */
export interface KeyedOutcome {
  readonly sent: number;
  readonly replayed: number;
  /** 409: the key's first request was still running; the client waited and retried. */
  readonly inFlight: number;
}

const NONE: KeyedOutcome = { sent: 0, replayed: 0, inFlight: 0 };

function headerOf(init: RequestInit | undefined, name: string): string | null {
  const headers = new Headers(init?.headers);
  return headers.get(name);
}

/**
 * The recent requests of the console's client: a `fetch` to hand to
 * `createClient` that records each answer's status and pattern headers
 * (readable cross-origin only because the server exposes them), and a store
 * for `useSyncExternalStore`.
 */
export function createRequestLog(capacity = 200) {
  let entries: readonly LoggedRequest[] = [];
  // Per key, apart from the strip, so that a burst pushing the strip's rows out keeps a form's outcome.
  let keyed: ReadonlyMap<string, KeyedOutcome> = new Map();
  let nextId = 1;
  // Counted apart from the strip's rows, which a burst pushes out.
  let rateLimited = 0;
  const listeners = new Set<Listener>();
  const push = (entry: LoggedRequest) => {
    entries = [entry, ...entries].slice(0, capacity);
    if (entry.status === 429) rateLimited++;
    if (entry.idempotencyKey !== null) {
      const was = keyed.get(entry.idempotencyKey) ?? NONE;
      const now = {
        sent: was.sent + 1,
        replayed: was.replayed + (entry.replayed ? 1 : 0),
        inFlight: was.inFlight + (entry.status === 409 ? 1 : 0),
      };
      const next: [string, KeyedOutcome][] = [...keyed, [entry.idempotencyKey, now]];
      keyed = new Map(next.slice(-capacity));
    }
    for (const listener of listeners) listener();
  };

  const fetch: FetchLike = async (url, init) => {
    const started = performance.now();
    const procedure = new URL(url, location.href).pathname.replace(/^.*\/trpc\//, '');
    const base = {
      id: nextId++,
      at: Date.now(),
      method: init?.method ?? 'GET',
      procedure,
      idempotencyKey: headerOf(init, 'idempotency-key'),
    };
    try {
      // Revalidate every time: the browser's own cache would answer repeats without asking the server (no
      // token spent, no 429 to show); revalidated, they come back as the server's 304s to If-None-Match.
      const response = await globalThis.fetch(url, { ...init, cache: 'no-cache' });
      const rateLimit = response.headers.get('ratelimit');
      const remaining = rateLimit ? /;\s*r=(\d+)/.exec(rateLimit)?.[1] : undefined;
      push({
        ...base,
        status: response.status,
        cacheStatus: response.headers.get('cache-status'),
        remaining: remaining === undefined ? null : Number(remaining),
        retryAfter: response.headers.get('retry-after'),
        replayed: response.headers.get('idempotent-replayed') === 'true',
        ms: performance.now() - started,
      });
      return response;
    } catch (error) {
      push({ ...base, status: 'failed', cacheStatus: null, remaining: null, retryAfter: null, replayed: false, ms: performance.now() - started });
      throw error;
    }
  };

  return {
    fetch,
    subscribe(listener: Listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    snapshot: () => entries,
    /** 429 answers received since the page opened. */
    rateLimited: () => rateLimited,
    /** The outcome of one key; a stable object while nothing changes, as useSyncExternalStore wants. */
    outcomeOf: (key: string): KeyedOutcome => keyed.get(key) ?? NONE,
  };
}

export type RequestLog = ReturnType<typeof createRequestLog>;
