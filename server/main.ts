import { startServer } from './app.js';
import { DEMO_KEYS } from './db/seed.js';
import { loadConfig, seedsDemoData } from './config.js';
import { exitOnStartupError, orExit } from './http/edge/startup-error.js';

// The only reader of process.env.
const config = orExit(() => loadConfig(process.env));
const server = await startServer(config).catch(exitOnStartupError);
const { log } = server.services;
log.info(
  {
    url: `${server.url}/trpc`,
    ratesSimulator: server.services.simulator?.url,
    // No API key is ever written to a production log, demo keys included.
    demoKeys: seedsDemoData(config) && config.NODE_ENV !== 'production' ? Object.values(DEMO_KEYS) : undefined,
  },
  `Composure listening on ${server.url}`,
);

// A person runs the dev server: say in plain words where it is and how to call it.
if (config.NODE_ENV === 'development') {
  const lines = [
    '',
    `  Composure is up: ${server.url}/trpc`,
    `  Console: ${server.url}/`,
    server.services.simulator ? `  Rates simulator: ${server.services.simulator.url} (switch with: curl -X POST --data hang ${server.url}/simulator/mode)` : '',
    seedsDemoData(config) ? `  Demo API keys: ${Object.values(DEMO_KEYS).join(', ')}` : '',
    `  Try: curl -H 'Authorization: Bearer ${DEMO_KEYS.alice}' '${server.url}/trpc/users.list?input=%7B%22limit%22%3A2%7D'`,
    '',
  ];
  process.stdout.write(`${lines.filter((l, i) => l !== '' || i === 0 || i === lines.length - 1).join('\n')}\n`);
}

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
