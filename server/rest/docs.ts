import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

/*
 * The reference page: Swagger UI from the swagger-ui-dist package, served
 * from this server (nothing from a CDN), rendering /openapi.json. Swagger
 * UI's bundle is self-contained (about 1.7 MB, 0.5 MB gzipped); its one
 * outside call, the online validator badge, is turned off.
 */
const DIST = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Composure REST API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css">
<link rel="icon" type="image/png" href="/docs/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>
`;

// A file of its own rather than an inline script, so a strict Content-Security-Policy ('self') allows it.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: true,
});
`;

interface Asset {
  type: string;
  body: Buffer;
  gzipped: Buffer;
}

const ASSET_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const assets = new Map<string, Asset>();

function asset(name: string): Asset | undefined {
  let found = assets.get(name);
  if (found === undefined) {
    let type: string;
    let body: Buffer;
    if (name === '') [type, body] = ['text/html; charset=utf-8', Buffer.from(PAGE)];
    else if (name === 'init.js') [type, body] = ['text/javascript; charset=utf-8', Buffer.from(INIT)];
    else if (Object.hasOwn(ASSET_FILES, name)) [type, body] = [ASSET_FILES[name] ?? '', readFileSync(join(DIST, name))];
    else return undefined;
    // Read and compressed once, on first use: a server nobody reads the docs of pays nothing.
    found = { type, body, gzipped: gzipSync(body) };
    assets.set(name, found);
  }
  return found;
}

/** Whether the client takes gzip (RFC 9110 §12.5.3; a q=0 refuses it). */
function acceptsGzip(req: IncomingMessage): boolean {
  const header = req.headers['accept-encoding'];
  if (header === undefined) return false;
  return header.split(',').some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(';');
    return (coding === 'gzip' || coding === '*') && !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

/** `GET /docs` and `/docs/<asset>`; false for a name it does not have. */
export function serveDocs(req: IncomingMessage, res: ServerResponse, name: string): boolean {
  const found = asset(name);
  if (found === undefined) return false;
  const gzip = found.type !== 'image/png' && acceptsGzip(req);
  const body = gzip ? found.gzipped : found.body;
  res.statusCode = 200;
  res.setHeader('content-type', found.type);
  res.setHeader('vary', 'accept-encoding');
  // The assets change only with the package version; the page itself is revalidated.
  res.setHeader('cache-control', name === '' ? 'no-cache' : 'public, max-age=86400');
  if (gzip) res.setHeader('content-encoding', 'gzip');
  res.setHeader('content-length', body.length);
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
