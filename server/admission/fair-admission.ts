import type { Limit } from './limit.js';
import type { TurnBudget } from './turn-budget.js';

/** How a started request ended, as {@link FairAdmissionOptions.start}'s `finish` is told. */
export type Outcome = 'ok' | 'dropped' | 'cancelled';

/** Why a request was refused: no room to wait, or it could not start within the queue timeout. */
export type ShedCause = 'queue_full' | 'queue_timeout';

/** Options of {@link createFairAdmission}. */
export interface FairAdmissionOptions<T> {
  limit: Limit;
  /**
   * Starts after which a turn that ran half the queue timeout is full, and
   * the most it carries to its end (turn-budget.ts). @default the limit's current value
   */
  turnBudget?: TurnBudget;
  /** Requests that may wait for a slot (all shares together); 0 refuses at once at the limit. */
  queueSize: number;
  /** Longest a request may wait to start, counted from when it arrived, in ms. */
  queueTimeoutMs: number;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /**
   * Starts an admitted request; `finish` must be called once when its
   * answer is out ('ok'), failed for want of capacity ('dropped'), or was
   * never worked on because its client had gone ('cancelled': no sample).
   */
  start(item: T, finish: (outcome?: Outcome) => void, waitedMs: number): void;
  /** Refuses a request (it has not started, and never will). */
  shed(item: T, cause: ShedCause): void;
}

interface Share<T> {
  readonly key: string;
  inflight: number;
  readonly queue: Entry<T>[];
  /** Requests it started in the current turn (valid while `turn` is the current one). */
  started: number;
  /** Its requests carried to the end of the current turn. */
  carried: number;
  turn: number;
}

interface Entry<T> {
  readonly item: T;
  readonly arrivedAt: number;
  /** Past this, the request is refused rather than started. */
  readonly deadline: number;
  readonly share: Share<T>;
}

/**
 * The admission decision, Netflix concurrency-limits' Limiter over a
 * pluggable {@link Limit}, with a short queue whose every entry has a
 * deadline, partitioned by share as its AbstractPartitionedLimiter is: a
 * share's size matters only once the whole server is at its limit. Then
 *
 * - a freed slot goes to the queued shares in turn (round robin), so a
 *   share with one request waiting is not stuck behind another's hundred;
 * - a full queue makes room by refusing the oldest waiting request of the
 *   share holding the most slots and queue places (its request nearest its
 *   deadline, and its client the one flooding), or the newcomer itself
 *   when its own share is that large: the tenant using the most capacity is
 *   shed first, and a tenant within a small share keeps being served;
 * - a request that cannot start within `queueTimeoutMs` of its arrival is
 *   refused rather than served late (its client has a Retry-After sooner
 *   than an answer); one that must wait and already waited that long
 *   before it reached the admission (a busy event loop reads sockets
 *   late) is refused at once, unless its share has nothing running or
 *   waiting;
 * - synchronous work is bounded per event-loop turn (see `enter`): a turn
 *   that ran half the queue timeout refuses the shares that had the most of
 *   it, but carries to its end those of their requests that arrived during
 *   it, as many as the turn budget (turn-budget.ts) at most; what it
 *   carried starts when the turn ends, or once it has waited half the
 *   queue timeout in a turn that goes on. The budget is the limit that
 *   binds where requests run to their answer within one callback.
 *
 * Shares are opaque strings (the HTTP layer uses the Authorization header:
 * admission runs before authentication). State is kept only for shares
 * with requests running or waiting, so memory is bounded by the limit and
 * the queue, however many keys clients invent.
 *
 * @example
 * ```ts
 * const admission = createFairAdmission({ limit: fixedLimit(2), queueSize: 8, queueTimeoutMs: 100, start, shed });
 * admission.enter('Bearer demo-alice', request);
 * ```
 */
export function createFairAdmission<T>(opts: FairAdmissionOptions<T>) {
  const { limit, queueSize, queueTimeoutMs } = opts;
  if (!Number.isInteger(queueSize) || queueSize < 0) throw new RangeError(`queueSize must be an integer ≥ 0, got ${String(queueSize)}`);
  if (!(queueTimeoutMs >= 0)) throw new RangeError(`queueTimeoutMs must be ≥ 0, got ${String(queueTimeoutMs)}`);
  const now = opts.now ?? (() => performance.now());
  const budget: TurnBudget = opts.turnBudget ?? { get current() { return limit.current; }, onTurn() {} };
  const shares = new Map<string, Share<T>>();
  // Shares with waiting requests, in turn order (a Set keeps insertion order; re-adding moves to the back).
  const ring = new Set<Share<T>>();
  let inflight = 0;
  let queued = 0;
  // The current event-loop turn (see beginTurn) and what started in it.
  let turn = 0;
  let turnStarted = 0;
  let turnRefused = 0;
  let turnBegan = -Infinity;
  let turnShares: Share<T>[] = [];
  // Requests of a full turn that arrived since it began, to start as it ends (see `enter`), the turn budget at most; since when the first waited.
  let carried: Entry<T>[] = [];
  let carriedSince = 0;
  let draining = false;
  let sweep: ReturnType<typeof setTimeout> | undefined;
  let sweepAt = Infinity;

  const forget = (share: Share<T>) => {
    if (share.inflight === 0 && share.queue.length === 0 && share.carried === 0 && share.turn !== turn) shares.delete(share.key);
  };

  const run = (share: Share<T>, item: T, startedAt: number, waitedMs: number) => {
    inflight++;
    share.inflight++;
    if (share.turn !== turn) {
      share.turn = turn;
      share.started = 0;
      turnShares.push(share);
    }
    share.started++;
    turnStarted++;
    const inflightAtStart = inflight;
    let done = false;
    opts.start(
      item,
      (outcome = 'ok') => {
        if (done) return;
        done = true;
        inflight--;
        share.inflight--;
        forget(share);
        if (outcome !== 'cancelled') {
          const at = now();
          limit.onSample({ now: at, rttMs: at - startedAt, inflight: inflightAtStart, dropped: outcome === 'dropped' });
        }
        drain();
      },
      waitedMs,
    );
  };

  const refuse = (entry: Entry<T>, cause: ShedCause) => {
    turnRefused++;
    forget(entry.share);
    opts.shed(entry.item, cause);
  };

  /** The next waiting request, taking the queued shares in turn. */
  const dequeue = (): Entry<T> | undefined => {
    const share = ring.values().next().value;
    if (share === undefined) return undefined;
    const entry = share.queue.shift();
    ring.delete(share);
    if (share.queue.length > 0) ring.add(share);
    if (entry) queued--;
    return entry;
  };

  const drain = () => {
    if (draining) return;
    draining = true;
    try {
      while (queued > 0 && inflight < limit.current) {
        const entry = dequeue();
        if (!entry) break;
        const at = now();
        if (at > entry.deadline) refuse(entry, 'queue_timeout');
        else run(entry.share, entry.item, at, at - entry.arrivedAt);
      }
    } finally {
      draining = false;
    }
  };

  /** Refuses every waiting request past its deadline; runs while some wait and no slot frees. */
  const expire = () => {
    sweep = undefined;
    sweepAt = Infinity;
    const at = now();
    let earliest = Infinity;
    for (const share of [...ring]) {
      let head = share.queue[0];
      while (head && at > head.deadline) {
        share.queue.shift();
        queued--;
        refuse(head, 'queue_timeout');
        head = share.queue[0];
      }
      if (head) earliest = Math.min(earliest, head.deadline);
      else ring.delete(share);
    }
    if (queued > 0) armSweep(earliest);
  };

  /** Makes sure the sweep runs by `deadline` (a clock time). */
  const armSweep = (deadline: number) => {
    if (deadline >= sweepAt) return;
    clearTimeout(sweep);
    sweepAt = deadline;
    sweep = setTimeout(expire, Math.max(1, Math.ceil(deadline - now())));
    sweep.unref?.();
  };

  /** Puts `entry` at the back of its share's queue, the share in the ring, and its deadline under the sweep. */
  const enqueue = (entry: Entry<T>) => {
    entry.share.queue.push(entry);
    queued++;
    ring.add(entry.share);
    armSweep(entry.deadline);
  };

  /**
   * Starts the requests a full turn carried, within the limit (the rest
   * wait in the queue, their deadline counted from now).
   */
  const startCarried = (at: number) => {
    const entries = carried;
    carried = [];
    for (const entry of entries) {
      entry.share.carried--;
      if (inflight < limit.current && queued === 0) {
        run(entry.share, entry.item, at, at - entry.arrivedAt);
        continue;
      }
      const waiting: Entry<T> = { item: entry.item, arrivedAt: entry.arrivedAt, deadline: at + queueTimeoutMs, share: entry.share };
      if (queued >= queueSize) {
        refuse(waiting, 'queue_full');
        continue;
      }
      enqueue(waiting);
    }
    drain();
  };

  /** The queued share holding the most slots and places, or undefined when none waits. */
  const largestQueued = (): Share<T> | undefined => {
    let largest: Share<T> | undefined;
    let weight = -1;
    for (const share of ring) {
      const w = share.inflight + share.queue.length;
      if (w > weight) {
        largest = share;
        weight = w;
      }
    }
    return largest;
  };

  return {
    /**
     * Starts `item` now, queues it, or refuses it (through `start` or
     * `shed`, possibly before returning). `arrivedAt` is when it reached
     * the server, if known to be earlier than now: time it spent before
     * its handler ran counts against the queue timeout.
     */
    enter(key: string, item: T, arrivedAt?: number): void {
      const at = now();
      const since = arrivedAt === undefined || arrivedAt > at ? at : arrivedAt;
      let share = shares.get(key);
      if (share === undefined) {
        share = { key, inflight: 0, queue: [], started: 0, carried: 0, turn: -1 };
        shares.set(key, share);
      }
      // A turn can last long past its queue timeout: libuv polls again at
      // once while every poll fills its batch (clients that resend as soon
      // as they are refused keep it full), and only then runs what waits
      // for the turn's end. What it carried starts once it has waited half
      // the queue timeout, before this request.
      if (carried.length > 0 && at - carriedSince >= queueTimeoutMs / 2) startCarried(at);
      const late = at - since > queueTimeoutMs;
      if (queued === 0 && inflight < limit.current) {
        // A request that runs to its end within one turn holds its slot for
        // no time: a server whose work is synchronous (SQLite) never has
        // `limit` in flight, and its queue is the sockets one turn reads
        // through. While a turn runs, nothing else does: the next turn's
        // requests arrive in socket buffers, new connections wait in the
        // listen queue (libuv accepts one per turn), /healthz waits. So a
        // turn that has run for half the queue timeout (a request read next
        // may have arrived as this one began) and started its budget of
        // requests is full: a request of a share that already started its
        // even part of this turn's requests is refused; a share that used
        // less of the turn (a small tenant, however many it sent at once) is
        // served.
        if (turnStarted >= budget.current && at - since > queueTimeoutMs / 2 && share.turn === turn && share.started * turnShares.length >= turnStarted) {
          const entry: Entry<T> = { item, arrivedAt: since, deadline: at, share };
          // A request known to have arrived during the turn (`arrivedAt`
          // after its start: the next request of a client served in it) is
          // carried to the turn's end rather than refused, the budget of them
          // at most: a long turn reads those too (libuv polls again at once
          // while sockets keep coming), and refusing all of them would leave
          // the server with nothing to do until the refused come back
          // (measured: idle for the second after a burst of 2 000). One that
          // may have waited since the turn began is refused: carried, it
          // would be served later still.
          if (carried.length < budget.current && since > turnBegan) {
            if (carried.length === 0) carriedSince = at;
            carried.push(entry);
            share.carried++;
            return;
          }
          return refuse(entry, 'queue_timeout');
        }
        // Otherwise a free slot is taken however late the request is: a slow
        // loop alone (a starved CPU, a long GC) is not a reason to refuse work.
        return run(share, item, at, at - since);
      }
      // It must wait, and already waited its whole budget before its handler
      // ran (the event loop is behind): refused at once, unless its share
      // holds nothing, so a tenant with a small share is still served.
      const idle = share.inflight === 0 && share.queue.length === 0;
      const entry: Entry<T> = { item, arrivedAt: since, deadline: (late ? at : since) + queueTimeoutMs, share };
      if (late && !idle) return refuse(entry, 'queue_timeout');
      if (queued >= queueSize) {
        const largest = largestQueued();
        if (largest === undefined || largest === share || share.inflight + share.queue.length + 1 >= largest.inflight + largest.queue.length) {
          return refuse(entry, 'queue_full');
        }
        const evicted = largest.queue.shift();
        if (largest.queue.length === 0) ring.delete(largest);
        queued--;
        if (evicted) refuse(evicted, 'queue_full');
      }
      enqueue(entry);
      drain();
    },
    /**
     * Marks the start of an event-loop turn: requests entered until the next
     * call were all read in one pass over the ready sockets.
     */
    beginTurn(): void {
      turn++;
      turnBegan = now();
      turnStarted = 0;
      turnRefused = 0;
      const touched = turnShares;
      turnShares = [];
      for (const share of touched) forget(share);
    },
    /**
     * Marks the end of an event-loop turn: the requests it carried start
     * now, ahead of anything the next turn reads.
     */
    endTurn(): void {
      const at = now();
      if (turnBegan > -Infinity) budget.onTurn({ durationMs: at - turnBegan, started: turnStarted, refused: turnRefused });
      if (carried.length > 0) startCarried(at);
    },
    /** The current limit and turn budget, the requests holding a slot, and those waiting for one (queued or carried). */
    stats(): { limit: number; turnBudget: number; inflight: number; queued: number } {
      return { limit: limit.current, turnBudget: budget.current, inflight, queued: queued + carried.length };
    },
    /** Stops the expiry timer (waiting requests stay queued until slots free). */
    close(): void {
      clearTimeout(sweep);
      sweep = undefined;
      sweepAt = Infinity;
    },
  };
}
export type FairAdmission<T> = ReturnType<typeof createFairAdmission<T>>;
