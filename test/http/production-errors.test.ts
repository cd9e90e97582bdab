import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/server.js';

describe('errors in production mode', () => {
  it('never carry a stack trace or SQL', async () => {
    await using server = await startTestServer({ NODE_ENV: 'production', SEED: 'true' });
    // Break the table under the server's feet: the resulting database error must not leak.
    await server.services.database.query('DROP TABLE payments');
    const res = await server.call('stats.summary');
    expect(res.status).toBe(500);
    expect(res.body.error?.message).toBe('Internal server error');
    expect(res.text).not.toMatch(/stack|SELECT|payments|\.ts/i);
  });
});
