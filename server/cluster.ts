import cluster from 'node:cluster';
import { createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { connectDatabase, poolOptions } from './db/connect.js';
import { seedOnStart } from './db/seed-on-start.js';
import { startRatesSimulator } from './downstream/rates-simulator.js';
import { listen, rethrowAsListenError } from './http/edge/listen.js';
import { exitOnStartupError, orExit } from './http/edge/startup-error.js';
import { serveClusterMetrics } from './metrics/cluster.js';

// `npm run start:cluster`: WORKERS processes share the port (node:cluster),
// the database (a SQLite file in WAL mode, or PostgreSQL) and, with REDIS_URL, limits, cache and invalidation.
// The primary migrates and seeds once, before any worker opens the file, and
// owns the one rates simulator the workers share.
const env = process.env;
const config = orExit(() => loadConfig(env));
const log = createLogger(config.LOG_LEVEL).child({ role: 'primary' });
const workers = Number(env.WORKERS ?? availableParallelism());
if (!Number.isInteger(workers) || workers < 1) throw new Error(`WORKERS must be a positive integer, got ${env.WORKERS}`);

const database = await connectDatabase(config.DATABASE_URL, { log, onMigrated: (target) => seedOnStart(target, config, log), pool: poolOptions(config) });
await database.close();

const simulator = config.RATES_URL
  ? null
  : await startRatesSimulator({ port: config.RATES_SIMULATOR_PORT, control: config.NODE_ENV === 'development' })
      .catch(rethrowAsListenError('RATES_SIMULATOR_PORT', config.RATES_SIMULATOR_PORT, '127.0.0.1'))
      .catch(exitOnStartupError);
if (!config.REDIS_URL) log.warn('REDIS_URL is unset: each worker keeps its own limits and cache');

// The workers' listen is done by this process anyway (node:cluster); trying
// the port first turns a taken PORT into one line instead of one per worker.
if (config.PORT !== 0) {
  const probe = createServer();
  await listen(probe, config.PORT, config.HOST, 'PORT').catch(exitOnStartupError);
  await new Promise((resolve) => probe.close(resolve));
}
if (simulator) log.info({ ratesSimulator: simulator.url, control: config.NODE_ENV === 'development' ? simulator.controlUrl : undefined }, 'rates simulator started');

serveClusterMetrics();
cluster.setupPrimary({ exec: fileURLToPath(new URL('./main.ts', import.meta.url)) });
let stopping = false;
const fork = () =>
  cluster.fork({ ...env, SEED: 'false', ...(simulator ? { RATES_URL: simulator.url } : {}) });
// A worker that exits before it ever listened (a taken PORT: it printed why)
// would fail the same way again: stop, rather than fork it forever.
const listened = new Set<number>();
cluster.on('listening', (worker) => listened.add(worker.id));
let exitCode = 0;
cluster.on('exit', (worker, code, signal) => {
  if (!stopping && !listened.has(worker.id) && code !== 0) {
    stopping = true;
    exitCode = 1;
    for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
  }
  if (stopping) {
    if (Object.keys(cluster.workers ?? {}).length === 0) {
      void simulator?.close().finally(() => process.exit(exitCode));
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
