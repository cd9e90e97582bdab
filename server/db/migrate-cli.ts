import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { connectDatabase, poolOptions } from './connect.js';

// `npm run db:migrate`: apply the committed migrations of DATABASE_URL's dialect and exit.
const config = loadConfig(process.env);
const database = await connectDatabase(config.DATABASE_URL, { log: createLogger(config.LOG_LEVEL), pool: poolOptions(config) });
await database.close();
console.log(`migrated ${database.dialect} database`);
