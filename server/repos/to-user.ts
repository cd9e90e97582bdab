import type { UserRow } from '../../drizzle/schema.js';
import type { User } from '../../shared/schemas/users.js';

export function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, email: row.email, createdAt: new Date(row.createdAt).toISOString() };
}
