import { TRPCClientError, type Operation, type OperationResultEnvelope } from '@trpc/client';
import { observable, type Observer } from '@trpc/server/observable';
import { afterEach, describe, expect, it } from 'vitest';
import { isAbortError } from '../../client/index.js';
import { pacingLink } from '../../client/links/pacing.js';
import { Pacer, resolvePacing } from '../../client/links/internals/pacer.js';
import { observeLink } from './helpers/observe-link.js';

// The pacing link's cancellation paths, driven by the order of events: the
// link runs on a real Pacer (real bottleneck), and the link after it is a
// wire whose answers the test releases one by one, so "reached the next
// link" and "freed its place" are facts, not timings.

type Envelope = OperationResultEnvelope<unknown, TRPCClientError<never>>;
interface Sent {
  op: Operation;
  observer: Observer<Envelope, TRPCClientError<never>>;
  tornDown: boolean;
}

class Wire {
  readonly sent: Sent[] = [];
  #waiters: Array<{ count: number; resolve: () => void }> = [];

  readonly next = (op: Operation) =>
    observable<Envelope, TRPCClientError<never>>((observer) => {
      const entry: Sent = { op, observer, tornDown: false };
      this.sent.push(entry);
      for (const w of this.#waiters.filter((w) => this.sent.length >= w.count)) w.resolve();
      return () => {
        entry.tornDown = true;
      };
    });

  /** Resolves once `count` operations have reached this link. */
  reached(count: number): Promise<void> {
    if (this.sent.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  answer(index: number): void {
    const { observer } = this.sent[index]!;
    observer.next({ result: { type: 'data', data: index } });
    observer.complete();
  }

  paths(): string[] {
    return this.sent.map((s) => s.op.path);
  }
}

const pacers: Pacer[] = [];
afterEach(() => {
  for (const p of pacers.splice(0)) p.dispose();
});

function pacer(maxConcurrent?: number): Pacer {
  const p = new Pacer(maxConcurrent === undefined ? null : resolvePacing({ maxConcurrent }));
  pacers.push(p);
  return p;
}

let nextId = 0;
function call(link: ReturnType<typeof pacingLink>, wire: Wire, path: string, signal?: AbortSignal) {
  const op: Operation = { id: ++nextId, type: 'query', path, input: undefined, context: {}, signal: signal ?? null };
  return observeLink(link({} as never)({ op, next: wire.next }));
}

describe('pacing link, open pacer', () => {
  it('passes the answer and the completion through', async () => {
    const wire = new Wire();
    const c = call(pacingLink(pacer()), wire, 'a');
    await wire.reached(1);
    wire.answer(0);
    await c.settled;
    expect(c.events).toEqual([{ type: 'next' }, { type: 'complete' }]);
    expect(c.values).toEqual([{ result: { type: 'data', data: 0 } }]);
  });

  it('unsubscribing tears down the request on the next link', async () => {
    const wire = new Wire();
    const c = call(pacingLink(pacer()), wire, 'a');
    await wire.reached(1);
    c.unsubscribe();
    expect(wire.sent[0]!.tornDown).toBe(true);
  });
});

describe('pacing link, engaged pacer', () => {
  it('a call whose signal is already aborted errors as the abort and never reaches the next link', async () => {
    const wire = new Wire();
    const link = pacingLink(pacer(1));
    const ac = new AbortController();
    ac.abort(new Error('gave up'));
    const c = call(link, wire, 'aborted', ac.signal);
    // A later call reaching the wire shows the queue moved past the aborted one.
    call(link, wire, 'later');
    await wire.reached(1);
    await c.settled;
    expect(wire.paths()).toEqual(['later']);
    expect(c.events).toHaveLength(1);
    const error = (c.events[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<never>).message).toBe('gave up');
  });

  it('a call aborted while queued errors as the abort at once, never reaches the next link, and frees its place', async () => {
    const wire = new Wire();
    const link = pacingLink(pacer(1));
    const first = call(link, wire, 'first');
    await wire.reached(1);
    const ac = new AbortController();
    const queued = call(link, wire, 'queued', ac.signal);
    const third = call(link, wire, 'third');
    ac.abort();
    // Synchronous with the abort: before the first call has even answered.
    expect(queued.events).toHaveLength(1);
    expect(isAbortError((queued.events[0] as { error: unknown }).error)).toBe(true);

    wire.answer(0);
    await first.settled;
    await wire.reached(2);
    expect(wire.paths()).toEqual(['first', 'third']);
    wire.answer(1);
    await third.settled;
    expect(third.events.at(-1)).toEqual({ type: 'complete' });
    expect(queued.events).toHaveLength(1);
  });

  it('unsubscribing a queued call frees its place without sending it', async () => {
    const wire = new Wire();
    const link = pacingLink(pacer(1));
    call(link, wire, 'first');
    await wire.reached(1);
    const queued = call(link, wire, 'queued');
    call(link, wire, 'third');
    expect(() => queued.unsubscribe()).not.toThrow();
    wire.answer(0);
    await wire.reached(2);
    expect(wire.paths()).toEqual(['first', 'third']);
    expect(queued.events).toEqual([]);
  });

  it('unsubscribing a call in flight tears it down on the next link and frees its place', async () => {
    const wire = new Wire();
    const link = pacingLink(pacer(1));
    const first = call(link, wire, 'first');
    await wire.reached(1);
    call(link, wire, 'second');
    first.unsubscribe();
    expect(wire.sent[0]!.tornDown).toBe(true);
    // The first never answers: only the freed slot lets the second go.
    await wire.reached(2);
    expect(wire.paths()).toEqual(['first', 'second']);
  });

  it('once a call is sent, its abort is the next link\'s to report, not the queue\'s', async () => {
    const wire = new Wire();
    const link = pacingLink(pacer(1));
    const ac = new AbortController();
    const c = call(link, wire, 'sent', ac.signal);
    await wire.reached(1);
    ac.abort();
    expect(c.events).toEqual([]);
    wire.answer(0);
    await c.settled;
    expect(c.events.at(-1)).toEqual({ type: 'complete' });
  });
});
