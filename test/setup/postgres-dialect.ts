// The `postgres` project's setup file (vitest.config.ts): every server its suites start runs on PostgreSQL.
process.env.TEST_DIALECT = 'postgres';
