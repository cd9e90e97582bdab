/**
 * Runs `work` when every write queued before it has finished. SQLite has
 * one writer connection; once a transaction awaits between statements,
 * another request's statement on that connection would land inside it.
 * Hand-written rather than a mutex package: it is the whole of a promise
 * chain, and the write path pays one microtask for it.
 */
export type WriteLock = <T>(work: () => T | Promise<T>) => Promise<T>;

export function createWriteLock(): WriteLock {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => T | Promise<T>): Promise<T> => {
    const run = tail.then(work);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** Inside a transaction the connection is already this request's: no queueing. */
export const alreadyHeld: WriteLock = async (work) => work();
