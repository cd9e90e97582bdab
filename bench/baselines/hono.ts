import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { serve } from '@hono/node-server';
import { z } from 'zod';
import { createPaymentInputSchema } from '../../shared/schemas/payments.js';
import { peerWork, type Caller } from './peer-work.js';

// The peer a team would write on Hono instead: the same work (peer-work.ts), Hono's way.
const work = peerWork();
const idParam = z.object({ id: z.coerce.number().int().positive() });

type Env = { Variables: { caller: Caller } };

const auth = createMiddleware<Env>(async (c, next) => {
  const caller = work.authenticate(c.req.header('authorization'));
  if (!caller) return c.json({ error: 'unauthorized' }, 401, { 'www-authenticate': 'Bearer' });
  const { allowed, headers } = work.limit(caller);
  for (const [name, value] of Object.entries(headers)) c.header(name, value);
  if (!allowed) return c.json({ error: 'rate limited' }, 429);
  c.set('caller', caller);
  return next();
});

const app = new Hono<Env>();
app.use('/users/*', auth);
app.use('/payments', auth);

app.get('/users/:id', (c) => {
  const params = idParam.safeParse(c.req.param());
  if (!params.success) return c.json({ error: params.error.issues }, 400);
  const user = work.userById(c.get('caller'), params.data.id);
  if (!user) return c.json({ error: 'not found' }, 404);
  return c.json({ result: { data: user } });
});

app.post('/payments', async (c) => {
  const key = c.req.header('idempotency-key');
  if (!key) return c.json({ error: 'Idempotency-Key is required' }, 400);
  const raw = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return c.json({ error: 'body is not JSON' }, 400);
  }
  const input = createPaymentInputSchema.safeParse(body);
  if (!input.success) return c.json({ error: input.error.issues }, 400);
  const outcome = work.createPayment(c.get('caller'), key, raw, input.data);
  if (outcome === 'mismatch') return c.json({ error: 'key used with another body' }, 422);
  if (outcome === 'no-user') return c.json({ error: 'no such user' }, 404);
  if (outcome.replayed) c.header('idempotent-replayed', 'true');
  return c.body(outcome.body, 200, { 'content-type': 'application/json' });
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(`Hono listening on http://127.0.0.1:${info.port}`);
});
process.on('SIGTERM', () => process.exit(0));
