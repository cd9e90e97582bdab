import { spawnServer, type ServerProcess } from './spawn-server.js';
import { UNLIMITED_ENV } from './fixtures.js';

/** A Composure server process over an existing seeded file, limits out of the way unless overridden. */
export function spawnComposure(dbFile: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<ServerProcess> {
  const composureEnv = {
    ...UNLIMITED_ENV,
    DATABASE_URL: dbFile,
    PORT: '0',
    RATES_SIMULATOR_PORT: '0',
    SEED: 'false',
    // info: the start line carries the URL; nothing is logged per request at info.
    LOG_LEVEL: 'info',
    ...env,
  };
  return spawnServer('server/main.ts', composureEnv, undefined, nodeArgs);
}
