import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Histogram, type Registry } from 'prom-client';
import type { Config } from '../config.js';
import { createFairAdmission, type ShedCause } from './fair-admission.js';
import { fixedLimit } from './fixed-limit.js';
import { gradient2Limit } from './gradient2-limit.js';
import type { Limit } from './limit.js';
import { createOverloadedAnswer } from './overloaded-answer.js';
import { createRetryAfterSpread } from './retry-after-spread.js';
import { adaptiveTurnBudget, fixedTurnBudget, type TurnBudget } from './turn-budget.js';

export interface AdmissionOptions {
  config: Pick<
    Config,
    | 'ADMISSION_LIMIT'
    | 'ADMISSION_MIN_LIMIT'
    | 'ADMISSION_MAX_LIMIT'
    | 'ADMISSION_QUEUE_SIZE'
    | 'ADMISSION_QUEUE_TIMEOUT_MS'
    | 'ADMISSION_RETRY_AFTER_S'
    | 'ADMISSION_RETRY_AFTER_MAX_S'
  >;
  /** The tenant of an Authorization header if already known (no database work), for the shed counter's label. */
  tenantOf(authorization: string | undefined): string | undefined;
}

// When the connection's last admitted request started (performance.now()).
const STARTED_AT = Symbol('admission.startedAt');
type StampedSocket = Socket & { [STARTED_AT]?: number };

interface Pending {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** 0 waiting, 1 started, 2 refused or gone. */
  state: 0 | 1 | 2;
  resolve: ((admitted: boolean) => void) | undefined;
}

/** The chosen algorithm: a fixed limit when ADMISSION_LIMIT is set, else Gradient2 between the bounds. */
export function limitFromConfig(config: AdmissionOptions['config']): Limit {
  if (config.ADMISSION_LIMIT !== undefined) return fixedLimit(config.ADMISSION_LIMIT);
  if (config.ADMISSION_MAX_LIMIT < config.ADMISSION_MIN_LIMIT) {
    throw new Error(`Invalid configuration:\n  ADMISSION_MAX_LIMIT: must be at least ADMISSION_MIN_LIMIT (${config.ADMISSION_MIN_LIMIT})`);
  }
  return gradient2Limit({ minLimit: config.ADMISSION_MIN_LIMIT, maxLimit: config.ADMISSION_MAX_LIMIT });
}

/**
 * The turn budget, within the same bounds as the limit (one pair of
 * settings for "how much may run at once", whichever way the work runs):
 * fixed with ADMISSION_LIMIT, else as many starts as fit in half the queue
 * timeout at the cost the event loop measures.
 */
export function turnBudgetFromConfig(config: AdmissionOptions['config']): TurnBudget {
  if (config.ADMISSION_LIMIT !== undefined) return fixedTurnBudget(config.ADMISSION_LIMIT);
  const targetMs = Math.max(1, config.ADMISSION_QUEUE_TIMEOUT_MS / 2);
  return adaptiveTurnBudget({ targetMs, min: config.ADMISSION_MIN_LIMIT, max: config.ADMISSION_MAX_LIMIT });
}

/**
 * Admission control for the HTTP layer: one call, `admit(req, res)`, in
 * front of every route that does work (after the cheap answers: cache hits
 * and 304s of the fast path, /healthz, /readyz, /metrics, which are never
 * shed). It resolves true when the request may run (at once, or after a
 * short wait in the fair queue) and false when it was refused with the
 * overload 503, which it has already written.
 *
 * A busy Node server queues requests where it cannot see them: in socket
 * buffers and in the list of ready sockets that one event-loop turn reads
 * through. Every request handled in one turn was ready when the turn
 * began, so the turn's start is taken as their arrival (one setImmediate
 * a turn marks it): the time a request sat in line before its handler ran
 * counts against the queue timeout and the queue-wait metric, as the
 * listen queue's does for the next turn. That setImmediate also tells the
 * admission the turn has ended, so that what a full turn carried starts.
 *
 * Refusals' Retry-After is spread (retry-after-spread.ts) so that the
 * refused come back at about the rate the server starts requests.
 */
export function createAdmission(opts: AdmissionOptions) {
  const { config } = opts;
  const spread = createRetryAfterSpread({ baseS: config.ADMISSION_RETRY_AFTER_S, maxS: config.ADMISSION_RETRY_AFTER_MAX_S });
  // One writer per wait in seconds (at most ADMISSION_RETRY_AFTER_MAX_S of them), each with its bodies built once.
  const answers = new Map<number, ReturnType<typeof createOverloadedAnswer>>();
  const answerFor = (retryAfterS: number) => {
    let answer = answers.get(retryAfterS);
    if (answer === undefined) {
      answer = createOverloadedAnswer(retryAfterS);
      answers.set(retryAfterS, answer);
    }
    return answer;
  };
  const shedByTenant = new Map<string, Record<ShedCause, number>>();
  let queueWait: Histogram | undefined;

  let turnStart = -1;
  const endTurn = () => {
    turnStart = -1;
    core.endTurn();
  };
  // The current turn's start, or now between turns: the clock the Retry-After spread counts in.
  const spreadClock = () => (turnStart < 0 ? performance.now() : turnStart);
  const arrival = (): number => {
    if (turnStart < 0) {
      turnStart = performance.now();
      core.beginTurn();
      setImmediate(endTurn);
    }
    return turnStart;
  };

  const core = createFairAdmission<Pending>({
    limit: limitFromConfig(config),
    turnBudget: turnBudgetFromConfig(config),
    queueSize: config.ADMISSION_QUEUE_SIZE,
    queueTimeoutMs: config.ADMISSION_QUEUE_TIMEOUT_MS,
    start(p, finish, waitedMs) {
      // Its client left while it waited: free the slot, answer nothing.
      if (p.req.socket.destroyed) {
        finish('cancelled');
        p.state = 2;
        p.resolve?.(false);
        return;
      }
      queueWait?.observe(waitedMs / 1000);
      (p.req.socket as StampedSocket)[STARTED_AT] = performance.now();
      spread.started(spreadClock());
      // 'close' comes once, with no argument: finish('ok'). `on`, not `once`: no wrapper per request.
      p.res.on('close', finish);
      p.state = 1;
      p.resolve?.(true);
    },
    shed(p, cause) {
      const tenant = opts.tenantOf(p.req.headers.authorization) ?? 'unknown';
      let counts = shedByTenant.get(tenant);
      if (counts === undefined) {
        counts = { queue_full: 0, queue_timeout: 0 };
        shedByTenant.set(tenant, counts);
      }
      counts[cause]++;
      if (!p.res.headersSent && !p.req.socket.destroyed) answerFor(spread.next(spreadClock()))(p.req, p.res);
      p.state = 2;
      p.resolve?.(false);
    },
  });

  return {
    /** True: run the request. False: it was refused, and the 503 is written. */
    admit(req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> {
      const p: Pending = { req, res, state: 0, resolve: undefined };
      // The share: the Authorization header as sent. Admission runs before
      // authentication, so no key is looked up; a tenant with two keys has two shares.
      // A request on a connection whose last request started during this
      // turn came in after that one's answer went out (HTTP/1.1 sends one at
      // a time): it has not waited since the turn began. Only a start
      // counts, not a refusal: a client that sends again at once after a
      // 503 gets no credit for ignoring its Retry-After.
      const turnAt = arrival();
      const previous = (req.socket as StampedSocket)[STARTED_AT];
      core.enter(req.headers.authorization ?? '', p, previous !== undefined && previous > turnAt ? previous : turnAt);
      if (p.state !== 0) return p.state === 1;
      return new Promise<boolean>((resolve) => {
        p.resolve = resolve;
      });
    },
    stats: core.stats,
    /** Requests refused so far, by tenant label ('unknown' when the key was not known yet) and cause. */
    shedTotals(): ReadonlyMap<string, Readonly<Record<ShedCause, number>>> {
      return shedByTenant;
    },
    /** Registers the queue-wait histogram (observed from then on). */
    register(registry: Registry): void {
      queueWait = new Histogram({
        name: 'composure_admission_queue_wait_seconds',
        help: 'Time admitted requests waited before they started (queue and event-loop turn).',
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        registers: [registry],
      });
    },
    close: core.close,
  };
}
export type Admission = ReturnType<typeof createAdmission>;
