import { createClient } from 'composure-client';
import { ComposureProvider } from 'composure-client/react';
import { useState } from 'react';
import { Burst } from './components/burst.js';
import { DevPanel } from './components/dev-panel.js';
import { PaymentForm } from './components/payment-form.js';
import { Payments } from './components/payments.js';
import { RatesCard } from './components/rates-card.js';
import { RequestStrip } from './components/request-strip.js';
import { UsersList } from './components/users-list.js';
import { createPauseWatch } from './pause.js';
import { createRequestLog } from './request-log.js';

// The seed's documented demo key: the console is served in development only.
const DEMO_KEY = 'demo-alice';

const log = createRequestLog();
const pause = createPauseWatch();
// Same origin as the API, so the URL is the page's own ('/').
const client = createClient({ url: '/', apiKey: DEMO_KEY, fetch: log.fetch, retry: { onRetry: pause.onRetry } });

export function App() {
  const [selected, setSelected] = useState<{ id: number; name: string } | null>(null);
  return (
    <ComposureProvider client={client}>
      <header className="top">
        <div className="brand">
          <span className="dot" />
          <h1>Composure</h1>
          <span className="muted">console · tenant alice · key {DEMO_KEY}</span>
        </div>
        <nav className="patterns">
          <span>cache</span>
          <span>paginate</span>
          <span>idempotency</span>
          <span>rate limits</span>
          <span>degradation</span>
        </nav>
      </header>
      <main className="grid">
        <section className="card users">
          <h2>Users</h2>
          <UsersList selectedId={selected?.id ?? null} onSelect={setSelected} />
        </section>
        <section className="card detail">
          {selected ? (
            <>
              <h2>
                Payments of <span className="name">{selected.name}</span>
              </h2>
              <PaymentForm userId={selected.id} log={log} />
              <Payments userId={selected.id} />
            </>
          ) : (
            <p className="empty">Pick a user to see their payments and make one.</p>
          )}
        </section>
        <aside className="side">
          <Burst client={client} log={log} pause={pause} />
          <section className="card degrade">
            <h2>Degradation</h2>
            <RatesCard log={log} />
            <DevPanel />
          </section>
        </aside>
        <section className="card strip">
          <RequestStrip log={log} />
        </section>
      </main>
    </ComposureProvider>
  );
}
