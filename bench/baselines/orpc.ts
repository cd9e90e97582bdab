import { createServer, type IncomingHttpHeaders } from 'node:http';
import { ORPCError, os } from '@orpc/server';
import { RPCHandler } from '@orpc/server/node';
import { ResponseHeadersPlugin, type ResponseHeadersPluginContext } from '@orpc/server/plugins';
import { userByIdInputSchema, userSchema } from '../../shared/schemas/users.js';
import { peerWork } from './peer-work.js';

// The peer a team would write on oRPC instead: the same work (peer-work.ts), oRPC's way.
const work = peerWork();

const base = os.$context<ResponseHeadersPluginContext & { headers: IncomingHttpHeaders }>();

const authed = base.middleware(({ context, next }) => {
  const caller = work.authenticate(context.headers.authorization);
  if (!caller) throw new ORPCError('UNAUTHORIZED');
  const { allowed, headers } = work.limit(caller);
  for (const [name, value] of Object.entries(headers)) context.resHeaders?.set(name, value);
  if (!allowed) throw new ORPCError('TOO_MANY_REQUESTS');
  return next({ context: { caller } });
});

const router = {
  users: {
    byId: base
      .use(authed)
      .route({ method: 'GET' })
      .input(userByIdInputSchema)
      .output(userSchema)
      .handler(({ context, input }) => {
        const user = work.userById(context.caller, input.id);
        if (!user) throw new ORPCError('NOT_FOUND');
        return user;
      }),
  },
};

const handler = new RPCHandler(router, { plugins: [new ResponseHeadersPlugin()] });

const server = createServer(async (req, res) => {
  const { matched } = await handler.handle(req, res, { prefix: '/rpc', context: { headers: req.headers } });
  if (!matched) res.writeHead(404).end();
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`oRPC listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
