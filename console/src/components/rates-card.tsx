import { useQuery } from '@tanstack/react-query';
import { useTRPC } from 'composure-client/react';
import { useSyncExternalStore } from 'react';
import type { RequestLog } from '../request-log.js';

/** The exchange rates, and how fresh the server says they are (a negative Cache-Status ttl means stale). */
export function RatesCard({ log }: { log: RequestLog }) {
  const trpc = useTRPC();
  const rates = useQuery({ ...trpc.rates.latest.queryOptions({ base: 'USD' }), refetchOnWindowFocus: false });
  const entries = useSyncExternalStore(log.subscribe, log.snapshot);
  const last = entries.find((e) => e.procedure === 'rates.latest' && e.status !== 304);
  const stale = last?.cacheStatus ? /ttl=-/.test(last.cacheStatus) : false;
  const shown = rates.data ? Object.entries(rates.data.rates).slice(0, 6) : [];
  return (
    <div className="rates">
      <div className="row-head">
        <h3>Exchange rates</h3>
        {rates.isError ? (
          <span className="badge bad" data-testid="rates-state">
            unavailable
          </span>
        ) : stale ? (
          <span className="badge warn" data-testid="rates-state">
            stale
          </span>
        ) : rates.data ? (
          <span className="badge ok" data-testid="rates-state">
            fresh
          </span>
        ) : null}
      </div>
      <ul className="rates-list">
        {shown.map(([currency, rate]) => (
          <li key={currency}>
            <span className="muted">{currency}</span> {rate}
          </li>
        ))}
      </ul>
      <div className="row-head">
        <p className="muted small">{rates.data ? `as of ${new Date(rates.data.asOf).toLocaleTimeString()}` : rates.isError ? rates.error.message : 'loading…'}</p>
        <button type="button" className="ghost" onClick={() => void rates.refetch()} data-testid="refresh-rates">
          refresh
        </button>
      </div>
    </div>
  );
}
