import type { Server } from 'node:net';

/**
 * A port that could not be bound, named by the variable that chose it, so
 * the start-up failure is one line a person can act on (no stack trace).
 */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(
    readonly variable: string,
    readonly port: number,
    readonly host: string,
    readonly code: string,
  ) {
    super(
      code === 'EADDRINUSE'
        ? `${variable}=${port} is already in use on ${host}: set ${variable} to a free port (or 0 for any).`
        : `${variable}=${port} cannot be bound on ${host} (${code}): set ${variable} to another port.`,
    );
  }
}

/** `server.listen(port, host)` as a promise that fails with a ListenError naming `variable`. */
export function listen(server: Server, port: number, host: string, variable: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new ListenError(variable, port, host, err.code ?? err.message));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** For a listen done elsewhere (the rates simulator): rethrows its failure as a ListenError naming `variable`. */
export function rethrowAsListenError(variable: string, port: number, host: string): (err: unknown) => never {
  return (err) => {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    if (typeof code === 'string') throw new ListenError(variable, port, host, code);
    throw err;
  };
}
