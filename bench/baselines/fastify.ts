import Fastify from 'fastify';
import { z } from 'zod';
import { peerWork, type Caller } from './peer-work.js';

// The peer a team would write on fastify instead: the same work (peer-work.ts), fastify's way.
const work = peerWork();
const idParam = z.object({ id: z.coerce.number().int().positive() });

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

const app = Fastify({ logger: false });
app.decorateRequest('caller');

app.addHook('onRequest', async (req, reply) => {
  const caller = work.authenticate(req.headers.authorization);
  if (!caller) return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized' });
  const { allowed, headers } = work.limit(caller);
  reply.headers(headers);
  if (!allowed) return reply.code(429).send({ error: 'rate limited' });
  req.caller = caller;
});

app.get('/users/:id', async (req, reply) => {
  const params = idParam.safeParse(req.params);
  if (!params.success) return reply.code(400).send({ error: params.error.issues });
  const user = work.userById(req.caller, params.data.id);
  if (!user) return reply.code(404).send({ error: 'not found' });
  return { result: { data: user } };
});

app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).then((address) => {
  console.log(`fastify listening on ${address}`);
});
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
