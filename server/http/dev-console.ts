import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

/** Where `npm run dev` builds the console (console/build.ts). */
export const CONSOLE_DIST = fileURLToPath(new URL('../../console/dist', import.meta.url));

/**
 * The development console's built files at `/`, served with sirv (content
 * types, ETags and 304s, nothing outside the folder). The page's panels use
 * the API itself, `/readyz` (the breaker) and `/simulator/mode`. Resolves
 * false for a request it has no file for. Mounted in development only: the
 * page carries the demo key.
 *
 * @example
 * ```ts
 * const devConsole = consoleFiles();
 * if (await devConsole(req, res)) return;
 * ```
 */
export function consoleFiles(dir: string = CONSOLE_DIST): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  // dev mode looks files up per request, so a console rebuilt while the server runs is served at once.
  const files = sirv(dir, {
    dev: true,
    etag: true,
    setHeaders: (res, pathname) => {
      // Vite names assets by content hash; index.html must be revalidated to find the new names.
      res.setHeader('cache-control', pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      res.once('finish', () => resolve(true));
      files(req, res, () => resolve(false));
    });
  };
}
