import type { FastPath } from './fast-paths.js';

// Placeholder: replays stored idempotent answers before the tRPC adapter.
export const idempotentReplay: FastPath = () => false;
