import type { AddressInfo } from 'node:net';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { createServices, type Services } from './services.js';
import { createHttpServer } from './http/server.js';
import { listen } from './http/edge/listen.js';

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  /** Graceful stop: no new connections, in-flight requests finish, then the database closes. */
  close(): Promise<void>;
}

/**
 * Builds and starts a whole Composure server. `main.ts` passes the config read
 * from the environment; tests pass `loadConfig({ PORT: '0', ... })`.
 */
export async function startServer(config: Config): Promise<RunningServer> {
  const log = createLogger(config.LOG_LEVEL);
  const services = await createServices(config, log);
  const http = createHttpServer(services);
  try {
    await listen(http.server, config.PORT, config.HOST, 'PORT');
  } catch (err) {
    await services.close();
    throw err;
  }
  const { port } = http.server.address() as AddressInfo;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    services,
    close() {
      closing ??= (async () => {
        await http.drain(config.SHUTDOWN_TIMEOUT_MS);
        await services.close();
      })();
      return closing;
    },
  };
}
