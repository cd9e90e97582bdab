import { ListenError } from './listen.js';

// loadConfig's message starts so (server/config.ts), and names every bad variable.
const CONFIG_ERROR = 'Invalid configuration:';

/**
 * A start-up failure a person fixes by changing a variable (a taken port, a
 * bad setting) ends the process with its message alone on stderr and exit
 * code 1, no stack trace; anything else is rethrown as the bug it is.
 * Meant as a `.catch` handler: `startServer(config).catch(exitOnStartupError)`.
 */
export function exitOnStartupError(err: unknown): never {
  const known = err instanceof ListenError || (err instanceof Error && err.message.startsWith(CONFIG_ERROR));
  if (!known) throw err;
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}

/** `fn()`, with exitOnStartupError for its failure (for synchronous steps such as loadConfig). */
export function orExit<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    return exitOnStartupError(err);
  }
}
