import type { Logger } from 'pino';
import { seedsDemoData, type Config } from '../config.js';
import type { SeedTarget } from './database.js';

/**
 * Fills an empty database with the demo tenants when the config asks for it
 * (see `seedsDemoData`). A production server left empty because SEED was not
 * set says so once, with the way out, instead of answering 401 to a newcomer
 * with no explanation; it never names the demo keys (no key in a production log).
 * Each dialect calls it once migrated, under its start-up lock, so
 * instances starting together seed once.
 */
export async function seedOnStart(target: SeedTarget, config: Config, log: Logger): Promise<void> {
  if (!(await target.isEmpty())) return;
  if (seedsDemoData(config)) {
    const started = Date.now();
    await target.seed({ users: config.SEED_USERS, progress: (line) => log.info(line) });
    log.info({ ms: Date.now() - started, users: config.SEED_USERS }, 'seeded demo data');
    return;
  }
  if (config.SEED === undefined) {
    log.warn(
      'The database is empty: no tenant and no API key yet, so every call gets 401. ' +
        'For the demo tenants and keys of the README, start once with SEED=true (npm run dev seeds by itself).',
    );
  }
}
