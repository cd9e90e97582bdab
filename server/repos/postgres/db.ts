import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type * as schema from '../../../drizzle/postgres/schema.js';

/** drizzle over a pool or over one checked-out connection (a transaction's). */
export type PgDb = NodePgDatabase<typeof schema>;
