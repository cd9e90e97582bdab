import { httpLink, TRPCClientError, type Operation, type OperationLink } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAbortError } from '../../client/index.js';
import { fetchLink } from '../../client/links/fetch.js';
import { resolveRetryOptions, retryAfterLink, type RetryEvent, type RetryOptions } from '../../client/links/retry-after.js';
import type { AppRouter } from '../../server/routers/app.js';
import { endingWith, observeLink } from './helpers/observe-link.js';

// The retry link on its own, in front of a real terminal link (the client's
// fetchLink, or tRPC's httpLink) over a scripted fetch, on fake timers: a
// wait is an exact number of milliseconds, and "sent again" is a count of
// fetch calls, not a timing.

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
}
/** An answer, or a fetch of its own (to hold the answer, or fail). */
type Step = Answer | ((init: RequestInit) => Promise<Response>);

const OK: Answer = { status: 200, body: { result: { data: 'ok' } } };
const unavailable = (headers: Record<string, string> = {}, data: Record<string, unknown> = {}): Answer => ({
  status: 503,
  headers,
  body: { error: { message: 'down', code: -32000, data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, ...data } } },
});
const respond = (a: Answer) => new Response(JSON.stringify(a.body), { status: a.status, headers: { 'content-type': 'application/json', ...a.headers } });

/** Each fetch takes the next step, the last one repeating. */
function scripted(...steps: Step[]) {
  const sent: RequestInit[] = [];
  const fetch = async (_url: unknown, init: RequestInit = {}): Promise<Response> => {
    sent.push(init);
    const step = steps[Math.min(sent.length - 1, steps.length - 1)]!;
    return typeof step === 'function' ? step(init) : respond(step);
  };
  return { fetch, sent };
}

/** An answer held until `open()`, whatever the request's signal does (a fetch that cannot be aborted). */
function gate(answer: Answer) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { step: () => opened.then(() => respond(answer)), open: () => open() };
}

/** No answer; rejects with the signal's reason when it aborts, as fetch does. */
const hang = (init: RequestInit) =>
  new Promise<Response>((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error)));

type Terminal = 'fetchLink' | 'httpLink';
type Fetch = ReturnType<typeof scripted>['fetch'];

let nextId = 0;
function call(opts: RetryOptions, fetch: Fetch, op: Partial<Operation> = {}, terminal: Terminal = 'fetchLink') {
  const url = 'http://127.0.0.1:1/trpc';
  const last: OperationLink<AppRouter> = (terminal === 'fetchLink' ? fetchLink({ url, fetch }) : httpLink<AppRouter>({ url, fetch }))({} as never);
  const link = retryAfterLink(opts)({} as never);
  const operation: Operation = { id: ++nextId, type: 'query', path: 'users.list', input: undefined, context: {}, signal: null, ...op };
  const { events, unsubscribe } = observeLink(link({ op: operation, next: endingWith(last) }));
  return { events, unsubscribe };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('resolveRetryOptions', () => {
  it('accepts zero delays: no wait between attempts is a valid choice', () => {
    expect(resolveRetryOptions({ maxDelayMs: 0, baseDelayMs: 0 })).toMatchObject({ maxDelayMs: 0, baseDelayMs: 0 });
  });

  it('refuses a negative base delay and an onRetry that is not a function, naming them', () => {
    expect(() => resolveRetryOptions({ baseDelayMs: -1 })).toThrow(/retry\.baseDelayMs/);
    expect(() => resolveRetryOptions({ onRetry: 'log' as never })).toThrow(/retry\.onRetry must be a function/);
  });
});

describe('how long it waits', () => {
  it('retries a Retry-After exactly equal to maxDelayMs, and passes the answer and its completion on', async () => {
    const server = scripted(unavailable({ 'retry-after': '1' }), OK);
    const c = call({ maxDelayMs: 1000 }, server.fetch);
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.sent).toHaveLength(2);
    expect(c.events).toEqual([{ type: 'next' }, { type: 'complete' }]);
  });

  it('spreads an overload refusal past its Retry-After, and caps the spread at maxDelayMs', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const delays: number[] = [];
    const overloaded = unavailable({ 'retry-after': '1' }, { reason: 'overloaded' });
    call({ onRetry: (e) => delays.push(e.delayMs) }, scripted(overloaded, OK).fetch);
    call({ maxDelayMs: 1200, onRetry: (e) => delays.push(e.delayMs) }, scripted(overloaded, OK).fetch);
    await vi.advanceTimersByTimeAsync(0);
    expect(delays).toEqual([1500, 1200]);
  });
});

describe('what it does not retry', () => {
  it('a subscription', async () => {
    // fetchLink refuses subscriptions with an error that has no status, which would otherwise read as a network failure.
    const retries: RetryEvent[] = [];
    const c = call({ onRetry: (e) => retries.push(e) }, scripted(OK).fetch, { type: 'subscription' });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(retries).toEqual([]);
    expect(c.events).toHaveLength(1);
    expect((c.events[0] as { error: Error }).error.message).toMatch(/Subscriptions are not supported/);
  });

  it('a timeout inside the fetch, though the call has no signal of its own', async () => {
    const server = scripted(() => Promise.reject(new DOMException('The operation timed out.', 'TimeoutError')));
    const c = call({ baseDelayMs: 1 }, server.fetch);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.sent).toHaveLength(1);
    expect(c.events).toHaveLength(1);
  });

  it('an answer that came after the call was aborted, whatever the answer', async () => {
    // A fetch that ignores the signal delivers a retryable 503 after the abort.
    const held = gate(unavailable());
    const server = scripted(held.step, OK);
    const ac = new AbortController();
    const c = call({ baseDelayMs: 1 }, server.fetch, { signal: ac.signal });
    ac.abort();
    held.open();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.sent).toHaveLength(1);
    expect((c.events[0] as { error: TRPCClientError<AppRouter> }).error.data?.httpStatus).toBe(503);
  });
});

describe('onRetry', () => {
  it('is told no idempotency key when the context holds one that is not a string', async () => {
    const keys: Array<string | undefined> = [];
    call({ onRetry: (e) => keys.push(e.idempotencyKey) }, scripted(unavailable({ 'retry-after': '0' }), OK).fetch, { context: { idempotencyKey: 12345 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(keys).toEqual([undefined]);
  });

  it('throwing does not stop the retry, and its error is reported outside the call', async () => {
    // reportLater rethrows in a microtask; catch what it throws there instead of failing the run.
    const reported: unknown[] = [];
    const queue = globalThis.queueMicrotask.bind(globalThis);
    vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) =>
      queue(() => {
        try {
          task();
        } catch (error) {
          reported.push(error);
        }
      }),
    );
    const hookError = new Error('hook broke');
    const server = scripted(unavailable({ 'retry-after': '0' }), OK);
    const c = call(
      {
        onRetry: () => {
          throw hookError;
        },
      },
      server.fetch,
    );
    await vi.advanceTimersByTimeAsync(0);
    expect(server.sent).toHaveLength(2);
    expect(c.events.at(-1)).toEqual({ type: 'complete' });
    expect(reported).toEqual([hookError]);
  });
});

describe('unsubscribing and aborting', () => {
  it('unsubscribing during a wait sends nothing more, and a later abort reports nothing', async () => {
    const server = scripted(unavailable({ 'retry-after': '1' }), OK);
    const ac = new AbortController();
    const c = call({}, server.fetch, { signal: ac.signal });
    await vi.advanceTimersByTimeAsync(500);
    c.unsubscribe();
    ac.abort();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(server.sent).toHaveLength(1);
    expect(c.events).toEqual([]);
  });

  it('unsubscribing in flight over httpLink reports nothing of the request it aborts', async () => {
    // httpLink aborts the request on unsubscribe and then reports that abort as an error.
    const server = scripted(hang);
    const c = call({ baseDelayMs: 1 }, server.fetch, {}, 'httpLink');
    await vi.advanceTimersByTimeAsync(0);
    expect(server.sent).toHaveLength(1);
    c.unsubscribe();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(server.sent).toHaveLength(1);
    expect(c.events).toEqual([]);
  });

  it('an abort during a wait rejects at once with the abort', async () => {
    const server = scripted(unavailable({ 'retry-after': '10' }), OK);
    const ac = new AbortController();
    const c = call({}, server.fetch, { signal: ac.signal });
    await vi.advanceTimersByTimeAsync(0);
    ac.abort();
    expect(c.events).toHaveLength(1);
    expect(isAbortError((c.events[0] as { error: unknown }).error)).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(server.sent).toHaveLength(1);
  });

  it('once a retry is sent, its abort is the transport\'s to report, not the wait\'s', async () => {
    // The second attempt's fetch ignores the signal: what it answers is what the call gets.
    const held = gate(OK);
    const server = scripted(unavailable({ 'retry-after': '0' }), held.step);
    const ac = new AbortController();
    const c = call({}, server.fetch, { signal: ac.signal });
    await vi.advanceTimersByTimeAsync(0);
    expect(server.sent).toHaveLength(2);
    ac.abort();
    expect(c.events).toEqual([]);
    held.open();
    await vi.advanceTimersByTimeAsync(0);
    expect(c.events).toEqual([{ type: 'next' }, { type: 'complete' }]);
  });
});
