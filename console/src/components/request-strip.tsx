import { useSyncExternalStore } from 'react';
import type { LoggedRequest, RequestLog } from '../request-log.js';

function statusClass(status: LoggedRequest['status']): string {
  if (status === 'failed' || status >= 500) return 'bad';
  if (status === 429 || status >= 400) return 'warn';
  if (status === 304) return 'info';
  return 'ok';
}

// `composure; hit` → `hit`; `composure; fwd=miss; stored` → `miss, stored`; a negative ttl is a stale answer (RFC 9211 §2.4).
function cacheLabel(value: string | null): string {
  if (!value) return '';
  const parts = value.split(';').slice(1).map((p) => p.trim());
  const label = parts.map((p) => (p.startsWith('fwd=') ? p.slice(4) : p)).filter((p) => !p.startsWith('ttl=') && p !== 'detail');
  if (parts.some((p) => /^ttl=-/.test(p))) label.push('stale');
  return label.join(', ');
}

/** The console client's recent requests, newest first, with the headers each pattern sets. */
export function RequestStrip({ log }: { log: RequestLog }) {
  const entries = useSyncExternalStore(log.subscribe, log.snapshot);
  return (
    <>
      <h2>Recent requests</h2>
      <div className="strip-scroll">
        <table className="requests" data-testid="requests">
          <thead>
            <tr>
              <th>time</th>
              <th>call</th>
              <th>status</th>
              <th>Cache-Status</th>
              <th>RateLimit left</th>
              <th>Retry-After</th>
              <th>replayed</th>
              <th>ms</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => (
              <tr key={e.id} data-testid="request-row" data-status={e.status}>
                <td className="muted">{new Date(e.at).toLocaleTimeString()}</td>
                <td>
                  <span className="method">{e.method}</span> {e.procedure}
                </td>
                <td>
                  <span className={`pill ${statusClass(e.status)}`}>{e.status}</span>
                </td>
                <td data-testid="cache-status">{cacheLabel(e.cacheStatus)}</td>
                <td>{e.remaining ?? ''}</td>
                <td data-testid="retry-after">{e.retryAfter ? `${e.retryAfter} s` : ''}</td>
                <td>{e.replayed ? <span className="badge ok">replayed</span> : ''}</td>
                <td className="muted">{Math.round(e.ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {entries.length === 0 && <p className="empty">No requests yet.</p>}
      </div>
    </>
  );
}
