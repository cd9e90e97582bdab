import type { FastPath } from './fast-paths.js';

// Placeholder: answers cache hits before the tRPC adapter.
export const cacheFastPath: FastPath = () => false;
