import type { ComposureClient } from 'composure-client';
import { useEffect, useState, useSyncExternalStore } from 'react';
import type { PauseWatch } from '../pause.js';
import type { RequestLog } from '../request-log.js';

// Past the default bucket (100, refilled at 20/s) even when the server answers slowly.
const BURST = 250;

function useNow(active: boolean): number {
  const [now, setNow] = useState(Date.now);
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 100);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

/**
 * Fires more calls at once than the key's bucket holds: the server answers
 * the overflow with 429 and Retry-After, the client pauses all its calls
 * until then (the countdown), and every call still completes.
 */
export function Burst({ client, log, pause }: { client: ComposureClient; log: RequestLog; pause: PauseWatch }) {
  const [run, setRun] = useState<{ started: number; limitedBefore: number; done: number; failed: number } | null>(null);
  const until = useSyncExternalStore(pause.subscribe, pause.until);
  const lastWaitMs = useSyncExternalStore(pause.subscribe, pause.lastWaitMs);
  const rateLimited = useSyncExternalStore(log.subscribe, log.rateLimited);
  const entries = useSyncExternalStore(log.subscribe, log.snapshot);
  const running = run !== null && run.done + run.failed < BURST;
  const now = useNow(running || until > Date.now());
  const left = Math.max(0, until - now);

  const fire = () => {
    const started = Date.now();
    setRun({ started, limitedBefore: log.rateLimited(), done: 0, failed: 0 });
    for (let i = 0; i < BURST; i++) {
      // Mostly one user each: the browser holds a second request for a URL until the first is answered (its cache lock).
      client.users.byId.query({ id: 1 + (i % 200) }).then(
        () => setRun((r) => (r && r.started === started ? { ...r, done: r.done + 1 } : r)),
        () => setRun((r) => (r && r.started === started ? { ...r, failed: r.failed + 1 } : r)),
      );
    }
  };

  const retryAfter = run ? entries.find((e) => e.at >= run.started && e.status === 429)?.retryAfter : undefined;
  return (
    <section className="card burst">
      <h2>Rate limit</h2>
      <p className="muted small">
        {BURST} calls at once, more than the key's bucket holds: the overflow gets 429 and the whole client waits out its Retry-After.
      </p>
      <button type="button" className="primary" onClick={fire} disabled={running} data-testid="burst">
        Burst {BURST} calls
      </button>
      {run && (
        <dl className="facts" data-testid="burst-result">
          <dt>completed</dt>
          <dd data-testid="burst-done">
            {run.done}/{BURST}
            {run.failed > 0 ? ` (${run.failed} failed)` : ''}
          </dd>
          <dt>429s seen</dt>
          <dd data-testid="burst-429s">{rateLimited - run.limitedBefore}</dd>
          <dt>Retry-After</dt>
          <dd>{retryAfter ? `${retryAfter} s` : '—'}</dd>
          <dt>client paused</dt>
          <dd data-testid="pause">
            {left > 0 ? (
              <span className="badge warn">paused {(left / 1000).toFixed(1)} s</span>
            ) : (
              <span className="badge ok" data-testid="resumed">
                running{lastWaitMs > 0 ? ` · waited ${(lastWaitMs / 1000).toFixed(1)} s` : ''}
              </span>
            )}
          </dd>
        </dl>
      )}
    </section>
  );
}
