import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createFairAdmission, type Outcome } from '../../../server/admission/fair-admission.js';
import { fixedLimit } from '../../../server/admission/fixed-limit.js';
import { fixedTurnBudget } from '../../../server/admission/turn-budget.js';

type Step =
  | { kind: 'enter'; key: number; arrived: 'now' | 'turn' | 'during' | 'earlier'; sync: boolean; times: number }
  | { kind: 'finish'; pick: number; outcome: Outcome }
  | { kind: 'advance'; ms: number }
  | { kind: 'beginTurn' }
  | { kind: 'endTurn' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('enter' as const), key: fc.integer({ min: 0, max: 3 }), arrived: fc.constantFrom('now' as const, 'turn' as const, 'during' as const, 'earlier' as const), sync: fc.boolean(), times: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(), outcome: fc.constantFrom<Outcome>('ok', 'dropped', 'cancelled') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 80 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'beginTurn' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'endTurn' as const }) },
);

const configArb = fc.record({
  limit: fc.integer({ min: 1, max: 4 }),
  budget: fc.integer({ min: 1, max: 5 }),
  queueSize: fc.integer({ min: 0, max: 5 }),
  queueTimeoutMs: fc.integer({ min: 0, max: 150 }),
});

describe('createFairAdmission under any interleaving', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts or refuses every request exactly once, never past the limit, with bounded waiting, and loses none', () => {
    fc.assert(
      fc.property(configArb, fc.array(stepArb, { maxLength: 200 }), (config, steps) => {
        const clock = { t: 1000 };
        const running: { name: string; finish: (outcome?: Outcome) => void }[] = [];
        const started = new Set<string>();
        const shed = new Set<string>();
        let finishNext = false;
        const admission = createFairAdmission<string>({
          limit: fixedLimit(config.limit),
          turnBudget: fixedTurnBudget(config.budget),
          queueSize: config.queueSize,
          queueTimeoutMs: config.queueTimeoutMs,
          now: () => clock.t,
          start(name, finish, waitedMs) {
            expect(started.has(name) || shed.has(name), `${name} decided twice`).toBe(false);
            expect(waitedMs).toBeGreaterThanOrEqual(0);
            started.add(name);
            // Synchronous work ends within the call that started it.
            if (finishNext) finish();
            else running.push({ name, finish });
          },
          shed(name) {
            expect(started.has(name) || shed.has(name), `${name} decided twice`).toBe(false);
            shed.add(name);
          },
        });
        let entered = 0;
        let turnBegan = clock.t;
        const check = () => {
          const stats = admission.stats();
          expect(stats.inflight).toBe(running.length);
          expect(stats.inflight).toBeLessThanOrEqual(config.limit);
          // Waiting: the queue, and what a full turn carried (the budget at most).
          expect(stats.queued).toBeLessThanOrEqual(config.queueSize + config.budget);
        };
        const advance = (ms: number) => {
          clock.t += ms;
          vi.advanceTimersByTime(ms);
        };
        for (const step of steps) {
          switch (step.kind) {
            case 'enter': {
              // A burst from one share, as one turn reads a client's pipelined or many clients' requests.
              for (let i = 0; i < step.times; i++) {
                const arrivedAt = { now: undefined, turn: turnBegan, during: turnBegan + 1, earlier: clock.t - 2 * config.queueTimeoutMs - 1 }[step.arrived];
                finishNext = step.sync;
                admission.enter(`k${step.key}`, `r${entered++}`, arrivedAt);
                finishNext = false;
                check();
              }
              break;
            }
            case 'finish': {
              if (running.length === 0) break;
              const [run] = running.splice(step.pick % running.length, 1);
              run?.finish(step.outcome);
              // A second call is ignored.
              run?.finish(step.outcome);
              break;
            }
            case 'advance':
              advance(step.ms);
              break;
            case 'beginTurn':
              turnBegan = clock.t;
              admission.beginTurn();
              break;
            case 'endTurn':
              admission.endTurn();
              break;
          }
          check();
        }
        // Everything finishes, turns end and deadlines pass: nothing is left undecided.
        for (let round = 0; round < 10 && (running.length > 0 || started.size + shed.size < entered); round++) {
          admission.endTurn();
          for (const run of running.splice(0)) run.finish();
          advance(config.queueTimeoutMs + 1);
          check();
        }
        expect(started.size + shed.size).toBe(entered);
        expect(admission.stats()).toMatchObject({ inflight: 0, queued: 0 });
        admission.close();
      }),
      { numRuns: 500 },
    );
  });
});
