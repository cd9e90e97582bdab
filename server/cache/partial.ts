/**
 * A partial answer (`degraded: [...]`) is served but never kept, at either
 * cache level: once the dependency is back, the next call should see the
 * whole answer.
 */
export function isPartial(data: unknown): boolean {
  return typeof data === 'object' && data !== null && Array.isArray((data as { degraded?: unknown }).degraded);
}
