import { useQueryClient } from '@tanstack/react-query';
import { useTRPC, useTRPCClient } from 'composure-client/react';
import { useEffect, useState, useSyncExternalStore, type FormEvent } from 'react';
import type { RequestLog } from '../request-log.js';

const CURRENCIES = ['EUR', 'GBP', 'JPY', 'CHF', 'USD'] as const;

// One key per intended payment, printable ASCII as the server wants; not a secret.
const newKey = () => `console-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;

/**
 * A payment form whose every submit of one intended payment carries the same
 * Idempotency-Key: a double click sends two requests and makes one payment,
 * the second answered by the server's replay. Changing the form means a new
 * payment, so a new key.
 */
export function PaymentForm({ userId, log }: { userId: number; log: RequestLog }) {
  const client = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [amount, setAmount] = useState('19.99');
  const [currency, setCurrency] = useState<(typeof CURRENCIES)[number]>('EUR');
  const [key, setKey] = useState(newKey);
  const [results, setResults] = useState<{ ids: number[]; errors: string[] }>({ ids: [], errors: [] });
  const outcome = useSyncExternalStore(log.subscribe, () => log.outcomeOf(key));

  useEffect(() => {
    setKey(newKey());
    setResults({ ids: [], errors: [] });
  }, [userId, amount, currency]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const amountCents = Math.round(Number(amount) * 100);
    // Not disabled while pending, on purpose: the key, not the button, makes the second click harmless.
    client.payments.create.mutate({ userId, amountCents, currency }, { context: { idempotencyKey: key } }).then(
      (payment) => {
        setResults((r) => ({ ...r, ids: [...r.ids, payment.id] }));
        void queryClient.invalidateQueries({ queryKey: trpc.payments.list.pathKey() });
      },
      (error: unknown) => setResults((r) => ({ ...r, errors: [...r.errors, error instanceof Error ? error.message : String(error)] })),
    );
  };

  const { sent, replayed, inFlight } = outcome;
  const distinct = [...new Set(results.ids)];
  return (
    <form className="pay" onSubmit={submit} data-testid="payment-form">
      <label>
        amount
        <input value={amount} onChange={(e) => setAmount(e.target.value)} inputMode="decimal" size={8} data-testid="amount" />
      </label>
      <label>
        currency
        <select value={currency} onChange={(e) => setCurrency(e.target.value as (typeof CURRENCIES)[number])}>
          {CURRENCIES.map((c) => (
            <option key={c}>{c}</option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" data-testid="pay">
        Pay
      </button>
      <button type="button" className="ghost" onClick={() => setKey(newKey())} title="Start a new payment with a fresh key">
        new key
      </button>
      <div className="key muted small">
        Idempotency-Key <code>{key}</code>
      </div>
      {sent > 0 && (
        <div className="outcome" data-testid="payment-outcome">
          <span>
            {sent} request{sent === 1 ? '' : 's'} sent
          </span>
          <span data-testid="payment-ids">
            {distinct.length === 0 ? 'waiting…' : `→ payment ${distinct.map((id) => `#${id}`).join(', ')}`}
          </span>
          {/* A second submit while the first still runs gets 409 with Retry-After; the client waits and gets the replay. */}
          {inFlight > 0 && <span className="badge warn">409 in flight ×{inFlight}, retried</span>}
          {replayed > 0 && (
            <span className="badge ok" data-testid="replayed">
              replayed ×{replayed}
            </span>
          )}
          {results.errors.map((e, i) => (
            <span key={i} className="bad">
              {e}
            </span>
          ))}
        </div>
      )}
    </form>
  );
}
