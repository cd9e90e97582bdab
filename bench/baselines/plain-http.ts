import { createServer } from 'node:http';

// The ceiling: node:http writing fixed bytes, no routing, no auth.
const body = Buffer.from(process.env.BODY ?? '{"result":{"data":{}}}');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`plain node:http listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
