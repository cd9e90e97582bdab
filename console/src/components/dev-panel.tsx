import { useCallback, useEffect, useState } from 'react';

const MODES = ['ok', 'slow', 'error', 'hang'] as const;

interface DevStatus {
  breaker: string;
  simulator: { mode: string } | null;
}

// Outside the API and its rate limit: readiness (with the breaker's state) and,
// in development, the built-in simulator's control on the API's own origin.
const READY_URL = '/readyz';
const MODE_URL = '/simulator/mode';

async function readStatus(): Promise<DevStatus> {
  // /readyz is 503 while a dependency is down, and still reports the breaker.
  const ready = (await (await fetch(READY_URL, { cache: 'no-store' })).json()) as { breakers?: { rates?: string } };
  const mode = await fetch(MODE_URL, { cache: 'no-store' });
  // 404: RATES_URL names a real provider, there is no simulator to switch.
  const simulator = mode.ok ? ((await mode.json()) as { mode: string }) : null;
  return { breaker: ready.breakers?.rates ?? 'unknown', simulator };
}

/** The rates breaker's state and the built-in simulator's mode, switchable from the page. */
export function DevPanel() {
  const [status, setStatus] = useState<DevStatus | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      setStatus(await readStatus());
      setError(null);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }, []);
  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), 1000);
    return () => clearInterval(timer);
  }, [refresh]);

  const switchTo = async (mode: string) => {
    await fetch(MODE_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mode }) });
    await refresh();
  };

  const breaker = status?.breaker ?? '…';
  return (
    <div className="dev">
      <dl className="facts">
        <dt>rates breaker</dt>
        <dd>
          <span className={`badge ${breaker === 'closed' ? 'ok' : breaker === 'open' ? 'bad' : 'warn'}`} data-testid="breaker">
            {breaker}
          </span>
        </dd>
        <dt>simulator</dt>
        <dd data-testid="simulator-mode">{status ? (status.simulator?.mode ?? 'external provider') : '…'}</dd>
      </dl>
      {status?.simulator && (
        <div className="modes" role="group" aria-label="simulator mode">
          {MODES.map((mode) => (
            <button
              key={mode}
              type="button"
              className={status.simulator?.mode === mode ? 'mode active' : 'mode'}
              onClick={() => void switchTo(mode)}
              data-testid={`mode-${mode}`}
            >
              {mode}
            </button>
          ))}
        </div>
      )}
      {error && <p className="bad small">{error}</p>}
    </div>
  );
}
