import { describe, expectTypeOf, it } from 'vitest';
import * as sqlite from '../../../drizzle/schema.js';
import * as postgres from '../../../drizzle/postgres/schema.js';

// Checked by `npm run typecheck` (tsc covers the tests); the run itself only names what is checked.
describe('the two drizzle schemas', () => {
  it('give every table the same row type on SQLite and PostgreSQL', () => {
    expectTypeOf<typeof postgres.tenants.$inferSelect>().toEqualTypeOf<typeof sqlite.tenants.$inferSelect>();
    expectTypeOf<typeof postgres.apiKeys.$inferSelect>().toEqualTypeOf<typeof sqlite.apiKeys.$inferSelect>();
    expectTypeOf<typeof postgres.users.$inferSelect>().toEqualTypeOf<typeof sqlite.users.$inferSelect>();
    expectTypeOf<typeof postgres.payments.$inferSelect>().toEqualTypeOf<typeof sqlite.payments.$inferSelect>();
    expectTypeOf<typeof postgres.idempotencyKeys.$inferSelect>().toEqualTypeOf<typeof sqlite.idempotencyKeys.$inferSelect>();
    expectTypeOf<typeof postgres.serverMeta.$inferSelect>().toEqualTypeOf<typeof sqlite.serverMeta.$inferSelect>();
  });

  it('take the same insert shape on both', () => {
    expectTypeOf<typeof postgres.users.$inferInsert>().toEqualTypeOf<typeof sqlite.users.$inferInsert>();
    expectTypeOf<typeof postgres.payments.$inferInsert>().toEqualTypeOf<typeof sqlite.payments.$inferInsert>();
    expectTypeOf<typeof postgres.idempotencyKeys.$inferInsert>().toEqualTypeOf<typeof sqlite.idempotencyKeys.$inferInsert>();
  });
});
