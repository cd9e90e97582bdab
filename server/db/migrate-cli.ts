import { loadConfig } from '../config.js';
import { openDatabase } from './open.js';

// `npm run db:migrate`: apply the committed migrations and exit.
const config = loadConfig(process.env);
const { sqlite } = openDatabase(config.DATABASE_URL);
sqlite.close();
console.log(`migrated ${config.DATABASE_URL}`);
