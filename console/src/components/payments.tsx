import { useInfiniteQuery } from '@tanstack/react-query';
import { useTRPC } from 'composure-client/react';

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency}`;

/** One user's payments, newest pages first; `degraded` when no exchange rates could be had. */
export function Payments({ userId }: { userId: number }) {
  const trpc = useTRPC();
  const payments = useInfiniteQuery(
    trpc.payments.list.infiniteQueryOptions({ limit: 20, userId }, { getNextPageParam: (page) => page.nextCursor }),
  );
  const pages = payments.data?.pages ?? [];
  const rows = pages.flatMap((p) => p.data);
  const degraded = pages.some((p) => p.degraded?.includes('rates'));
  return (
    <div className="payments">
      <div className="row-head">
        <h3>Payments</h3>
        {degraded && (
          <span className="badge warn" data-testid="degraded-badge" title="No exchange rates, fresh or stale: amounts in USD are missing">
            degraded: rates
          </span>
        )}
      </div>
      {payments.isError && <p className="bad">{payments.error.message}</p>}
      <table data-testid="payments">
        <thead>
          <tr>
            <th>#</th>
            <th>amount</th>
            <th>in USD</th>
            <th>created</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((p) => (
            <tr key={p.id} data-testid="payment-row">
              <td className="id">{p.id}</td>
              <td>{money(p.amountCents, p.currency)}</td>
              <td>{p.amountInBase === null ? <span className="muted">—</span> : money(p.amountInBase, 'USD')}</td>
              <td className="muted">{new Date(p.createdAt).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {payments.hasNextPage && (
        <button type="button" className="ghost" onClick={() => void payments.fetchNextPage()}>
          more
        </button>
      )}
    </div>
  );
}
