import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFairAdmission, type Outcome, type ShedCause } from '../../../server/admission/fair-admission.js';
import { fixedLimit } from '../../../server/admission/fixed-limit.js';
import type { Limit, LimitSample } from '../../../server/admission/limit.js';
import { fixedTurnBudget, type TurnBudget, type TurnSample } from '../../../server/admission/turn-budget.js';

interface Run {
  name: string;
  finish: (outcome?: Outcome) => void;
  waitedMs: number;
}

/** An admission over a fake clock, recording what it started and shed, in order. */
function setup(opts: { limit?: Limit; turnBudget?: TurnBudget; queueSize?: number; queueTimeoutMs?: number } = {}) {
  const clock = { t: 1000 };
  const started: Run[] = [];
  const shed: { name: string; cause: ShedCause }[] = [];
  const admission = createFairAdmission<string>({
    limit: opts.limit ?? fixedLimit(2),
    ...(opts.turnBudget ? { turnBudget: opts.turnBudget } : {}),
    queueSize: opts.queueSize ?? 4,
    queueTimeoutMs: opts.queueTimeoutMs ?? 100,
    now: () => clock.t,
    start: (name, finish, waitedMs) => started.push({ name, finish, waitedMs }),
    shed: (name, cause) => shed.push({ name, cause }),
  });
  const names = () => started.map((r) => r.name);
  const finish = (name: string) => started.find((r) => r.name === name)?.finish();
  return { clock, started, shed, admission, names, finish };
}

describe('createFairAdmission', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts requests at once while below the limit', () => {
    const { admission, names } = setup();
    admission.enter('alice', 'a1');
    admission.enter('bob', 'b1');
    expect(names()).toEqual(['a1', 'b1']);
    expect(admission.stats()).toEqual({ limit: 2, turnBudget: 2, inflight: 2, queued: 0 });
  });

  it('queues past the limit and starts the next waiting request when a slot frees, with its wait', () => {
    const { admission, names, finish, clock, started } = setup();
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2');
    admission.enter('alice', 'a3');
    expect(names()).toEqual(['a1', 'a2']);
    expect(admission.stats().queued).toBe(1);
    clock.t += 30;
    finish('a1');
    expect(names()).toEqual(['a1', 'a2', 'a3']);
    expect(started[2]?.waitedMs).toBe(30);
    expect(admission.stats()).toEqual({ limit: 2, turnBudget: 2, inflight: 2, queued: 0 });
  });

  it('refuses at once at the limit when there is no queue', () => {
    const { admission, shed } = setup({ queueSize: 0 });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2');
    admission.enter('alice', 'a3');
    expect(shed).toEqual([{ name: 'a3', cause: 'queue_full' }]);
  });

  it('refuses a waiting request that could not start within the queue timeout, even with no slot freed', () => {
    const { admission, shed, clock } = setup({ queueTimeoutMs: 100 });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2');
    admission.enter('alice', 'a3');
    clock.t += 101;
    vi.advanceTimersByTime(101);
    expect(shed).toEqual([{ name: 'a3', cause: 'queue_timeout' }]);
    expect(admission.stats().queued).toBe(0);
  });

  it('refuses rather than starts late a waiting request whose deadline passed before a slot freed', () => {
    const { admission, shed, names, finish, clock } = setup({ queueTimeoutMs: 100 });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2');
    admission.enter('alice', 'a3');
    clock.t += 150;
    finish('a1');
    expect(names()).toEqual(['a1', 'a2']);
    expect(shed).toEqual([{ name: 'a3', cause: 'queue_timeout' }]);
  });

  it('refuses at once a request that would have to wait and already waited out its timeout before it arrived', () => {
    const { admission, shed, names, finish, clock } = setup({ limit: fixedLimit(1), queueTimeoutMs: 100 });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2', clock.t - 120);
    expect(shed).toEqual([{ name: 'a2', cause: 'queue_timeout' }]);
    // A share with nothing running or waiting still gets its turn: bob is not punished for alice's flood.
    admission.enter('bob', 'b1', clock.t - 120);
    finish('a1');
    expect(names()).toEqual(['a1', 'b1']);
  });

  it('starts a late request when a slot is free: a slow event loop alone refuses nothing', () => {
    const { admission, shed, names, clock } = setup({ limit: fixedLimit(2), queueTimeoutMs: 100 });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2', clock.t - 500);
    expect(shed).toEqual([]);
    expect(names()).toEqual(['a1', 'a2']);
  });

  it("counts a turn that ran half the queue timeout and started `limit` requests as full: the share with most of it is refused, but what it sent during the turn is carried to the turn's end, `limit` of them at most; a smaller share is served", () => {
    const { admission, shed, names, finish, clock, started } = setup({ limit: fixedLimit(2), queueTimeoutMs: 100 });
    // Synchronous work: each request ends before the next one of the turn is read.
    const sync = (key: string, name: string, arrivedAt: number, costMs: number) => {
      admission.enter(key, name, arrivedAt);
      finish(name);
      clock.t += costMs;
    };
    admission.beginTurn();
    const turnStart = clock.t;
    // Sent during the turn: the next request of a client the turn served (its connection's last start).
    const during = turnStart + 1;
    sync('alice', 'a1', turnStart, 20);
    sync('alice', 'a2', turnStart, 20);
    // 40 ms into the turn: not yet half the timeout, alice is still served.
    sync('alice', 'a3', turnStart, 20);
    // 60 ms: full; alice started all three, bob none. a4 came during the turn: carried.
    sync('alice', 'a4', during, 5);
    sync('bob', 'b1', turnStart, 5);
    // Bob's second of the turn: he has 1 of its 4 starts, less than his even part (2 of 2 shares).
    sync('bob', 'b2', turnStart, 5);
    // a5 may have waited since the turn began: refused. a6 came during it: carried (two, the limit). a7: refused.
    sync('alice', 'a5', turnStart, 5);
    sync('alice', 'a6', during, 5);
    sync('alice', 'a7', during, 5);
    expect(shed).toEqual([
      { name: 'a5', cause: 'queue_timeout' },
      { name: 'a7', cause: 'queue_timeout' },
    ]);
    expect(names()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect(admission.stats()).toEqual({ limit: 2, turnBudget: 2, inflight: 0, queued: 2 });
    // The turn ends: what it carried starts, with the wait since it arrived.
    admission.endTurn();
    expect(names()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'a4', 'a6']);
    expect(started.find((r) => r.name === 'a4')?.waitedMs).toBe(clock.t - during);
    finish('a4');
    finish('a6');
    // A new turn starts afresh.
    admission.beginTurn();
    sync('alice', 'a8', clock.t, 1);
    expect(names()).toEqual(['a1', 'a2', 'a3', 'b1', 'b2', 'a4', 'a6', 'a8']);
    expect(shed).toHaveLength(2);
  });

  it('fills a turn and bounds what it carries by the turn budget, not the concurrency limit, and tells the budget what each turn did', () => {
    const turns: TurnSample[] = [];
    const budget = fixedTurnBudget(3);
    const { admission, shed, names, finish, clock } = setup({
      limit: fixedLimit(1),
      turnBudget: { current: budget.current, onTurn: (sample) => turns.push(sample) },
      queueTimeoutMs: 100,
    });
    admission.beginTurn();
    const turnStart = clock.t;
    // Synchronous: one in flight at a time, so the limit of 1 never binds; 60 ms of work in two starts.
    for (const name of ['a1', 'a2']) {
      admission.enter('alice', name, turnStart);
      finish(name);
      clock.t += 30;
    }
    // Past half the timeout, but two starts are below the budget of 3: served.
    admission.enter('alice', 'a3', turnStart + 1);
    finish('a3');
    clock.t += 5;
    // Full now: sent during the turn, carried up to the budget (3), then refused.
    for (const name of ['a4', 'a5', 'a6', 'a7']) admission.enter('alice', name, turnStart + 1);
    expect(names()).toEqual(['a1', 'a2', 'a3']);
    expect(shed).toEqual([{ name: 'a7', cause: 'queue_timeout' }]);
    expect(admission.stats()).toMatchObject({ limit: 1, turnBudget: 3, queued: 3 });
    clock.t += 5;
    admission.endTurn();
    expect(turns).toEqual([{ durationMs: 70, started: 3, refused: 1 }]);
    // At its end the carried start within the limit; the rest wait their turn in the queue.
    expect(names()).toEqual(['a1', 'a2', 'a3', 'a4']);
    finish('a4');
    finish('a5');
    expect(names()).toEqual(['a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
  });

  /** A turn at limit 1 whose first request, alice's a1, ran 60 ms: full from then on. */
  function fullTurn() {
    const ctx = setup({ limit: fixedLimit(1), queueTimeoutMs: 100 });
    ctx.admission.beginTurn();
    const turnStart = ctx.clock.t;
    ctx.admission.enter('alice', 'a1', turnStart);
    ctx.finish('a1');
    ctx.clock.t += 60;
    return { ...ctx, turnStart };
  }

  it('starts what a long turn carried once it has waited half the queue timeout, before the request being read', () => {
    const { admission, shed, names, clock, turnStart } = fullTurn();
    // Full: a2, sent during the turn, is carried at 60 ms. The limit is 1, so a3 is refused.
    admission.enter('alice', 'a2', turnStart + 1);
    clock.t += 10;
    admission.enter('alice', 'a3', turnStart + 1);
    expect(names()).toEqual(['a1']);
    expect(shed).toEqual([{ name: 'a3', cause: 'queue_timeout' }]);
    // 50 ms after it was carried, the turn still running (libuv polls on while sockets keep coming): a2 starts first.
    clock.t += 40;
    admission.enter('alice', 'a4', turnStart);
    expect(names()).toEqual(['a1', 'a2']);
    // a4 finds a2 holding the only slot and may have waited past its timeout since the turn began: refused.
    expect(shed).toEqual([
      { name: 'a3', cause: 'queue_timeout' },
      { name: 'a4', cause: 'queue_timeout' },
    ]);
  });

  it("queues what a turn carried when its end finds every slot taken, its deadline counted from the turn's end", () => {
    const { admission, shed, names, finish, clock, turnStart } = fullTurn();
    admission.enter('alice', 'a2', turnStart + 1);
    // Bob's first of the turn is served, and holds the slot (his work is not synchronous).
    admission.enter('bob', 'b1', turnStart);
    expect(names()).toEqual(['a1', 'b1']);
    clock.t += 10;
    admission.endTurn();
    expect(names()).toEqual(['a1', 'b1']);
    expect(admission.stats()).toEqual({ limit: 1, turnBudget: 1, inflight: 1, queued: 1 });
    // 90 ms after the turn's end (160 ms after the turn began): still within its deadline.
    clock.t += 90;
    vi.advanceTimersByTime(90);
    finish('b1');
    expect(names()).toEqual(['a1', 'b1', 'a2']);
    expect(shed).toEqual([]);
  });

  it('serves every request of a long turn below `limit` starts: refusals alone do not fill it', () => {
    const { admission, shed, names, finish, clock } = setup({ limit: fixedLimit(3), queueTimeoutMs: 100 });
    admission.beginTurn();
    const turnStart = clock.t;
    for (const name of ['a1', 'a2']) {
      clock.t += 80;
      admission.enter('alice', name, turnStart);
      finish(name);
    }
    expect(shed).toEqual([]);
    expect(names()).toEqual(['a1', 'a2']);
  });

  it('counts the wait before arrival in the queue timeout', () => {
    const { admission, shed, clock } = setup({ queueTimeoutMs: 100 });
    admission.enter('alice', 'a1');
    admission.enter('bob', 'b1');
    admission.enter('alice', 'a2', clock.t - 60);
    clock.t += 41;
    vi.advanceTimersByTime(41);
    expect(shed).toEqual([{ name: 'a2', cause: 'queue_timeout' }]);
  });

  it('makes room in a full queue by shedding the oldest waiting request of the share using the most', () => {
    const { admission, shed, names, finish } = setup({ queueSize: 3 });
    for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) admission.enter('alice', n);
    admission.enter('bob', 'b1');
    expect(shed).toEqual([{ name: 'a3', cause: 'queue_full' }]);
    finish('a1');
    // Bob's turn comes before alice's second waiting request.
    finish('a2');
    expect(names()).toEqual(['a1', 'a2', 'a4', 'b1']);
  });

  it('refuses the newcomer itself when its own share is the largest', () => {
    const { admission, shed } = setup({ queueSize: 2 });
    for (const n of ['a1', 'a2', 'a3', 'a4']) admission.enter('alice', n);
    admission.enter('alice', 'a5');
    expect(shed).toEqual([{ name: 'a5', cause: 'queue_full' }]);
  });

  it('gives freed slots to the waiting shares in turn', () => {
    const { admission, names, finish } = setup({ limit: fixedLimit(1), queueSize: 10 });
    admission.enter('alice', 'a0');
    for (const n of ['a1', 'a2', 'a3']) admission.enter('alice', n);
    admission.enter('bob', 'b1');
    admission.enter('bob', 'b2');
    admission.enter('carol', 'c1');
    for (let i = 0; i < 6; i++) finish(names().at(-1) ?? '');
    expect(names()).toEqual(['a0', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('reports each finished request to the limit, but not one whose client had gone', () => {
    const samples: LimitSample[] = [];
    const limit: Limit = { current: 4, onSample: (s) => samples.push(s) };
    const { admission, started, clock } = setup({ limit });
    admission.enter('alice', 'a1');
    admission.enter('alice', 'a2');
    clock.t += 12;
    started[0]?.finish();
    started[0]?.finish();
    started[1]?.finish('cancelled');
    expect(samples).toEqual([{ now: 1012, rttMs: 12, inflight: 1, dropped: false }]);
    expect(admission.stats().inflight).toBe(0);
  });

  it('follows a limit that grows: waiting requests start as soon as it allows', () => {
    const limit = { current: 1, onSample() {} };
    const { admission, names, finish } = setup({ limit });
    for (const n of ['a1', 'a2', 'a3']) admission.enter('alice', n);
    limit.current = 3;
    finish('a1');
    expect(names()).toEqual(['a1', 'a2', 'a3']);
  });
});
