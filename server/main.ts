import { startServer } from './app.js';
import { DEMO_KEYS } from './db/seed.js';
import { loadConfig } from './config.js';

// The only reader of process.env.
const config = loadConfig(process.env);
const server = await startServer(config);
const { log } = server.services;
log.info(
  {
    url: `${server.url}/trpc`,
    ratesSimulator: server.services.simulator?.url,
    demoKeys: config.SEED ? Object.values(DEMO_KEYS) : undefined,
  },
  `Composure listening on ${server.url}`,
);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
