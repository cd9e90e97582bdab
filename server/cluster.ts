import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { openDatabase } from './db/open.js';
import { seedOnStart } from './db/seed-on-start.js';
import { startRatesSimulator } from './downstream/rates-simulator.js';

// `npm run start:cluster`: WORKERS processes share the port (node:cluster),
// the SQLite file (WAL) and, with REDIS_URL, limits, cache and invalidation.
// The primary migrates and seeds once, before any worker opens the file, and
// owns the one rates simulator the workers share.
const env = process.env;
const config = loadConfig(env);
const log = createLogger(config.LOG_LEVEL).child({ role: 'primary' });
const workers = Number(env.WORKERS ?? availableParallelism());
if (!Number.isInteger(workers) || workers < 1) throw new Error(`WORKERS must be a positive integer, got ${env.WORKERS}`);

const { sqlite } = openDatabase(config.DATABASE_URL);
seedOnStart(sqlite, config, log);
sqlite.close();

const simulator = config.RATES_URL ? null : await startRatesSimulator({ port: config.RATES_SIMULATOR_PORT });
if (!config.REDIS_URL) log.warn('REDIS_URL is unset: each worker keeps its own limits and cache');

cluster.setupPrimary({ exec: fileURLToPath(new URL('./main.ts', import.meta.url)) });
let stopping = false;
const fork = () =>
  cluster.fork({ ...env, SEED: 'false', ...(simulator ? { RATES_URL: simulator.url } : {}) });
cluster.on('exit', (worker, code, signal) => {
  if (stopping) {
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      void simulator?.close().finally(() => process.exit(0));
    }
    return;
  }
  log.warn({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
  fork();
});
for (let i = 0; i < workers; i++) fork();
log.info({ workers, port: config.PORT, redis: Boolean(config.REDIS_URL) }, 'cluster started');

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
}
