import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LISTENING = 'Composure listening on ';

export interface ChildServer {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  pid: number;
  /** Sends `signal` to this child (by its pid) and resolves once it has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** The child's last output lines, for failure messages. */
  output(): string;
}

export interface ChildServerOptions {
  /** Added to the environment; REDIS_URL is removed unless given here. */
  env: Record<string, string>;
  /** Longest wait for the "listening" line. @default 20000 */
  startTimeoutMs?: number;
  /** Called with every pino line the child writes to stdout, parsed. */
  onLog?: (entry: Record<string, unknown>) => void;
}

/**
 * Runs the real server (`node --import tsx server/main.ts`) as a child
 * process and resolves with its URL once it logs `Composure listening on
 * <url>`: give it PORT=0 and it reports the port it got.
 */
export function startChildServer(opts: ChildServerOptions): Promise<ChildServer> {
  const { REDIS_URL: _redis, ...inherited } = process.env;
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env: { ...inherited, HOST: '127.0.0.1', PORT: '0', RATES_SIMULATOR_PORT: '0', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const remember = (text: string) => {
    lines.push(...text.split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  child.stderr?.setEncoding('utf8').on('data', remember);

  return new Promise<ChildServer>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error('the child server did not start in time')), opts.startTimeoutMs ?? 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      reject(new Error(`${err.message}\n${lines.join('\n')}`));
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`the child server exited (${code ?? signal}) before listening`));
    child.once('exit', onEarlyExit);
    let pending = '';
    // Keep reading stdout for the child's whole life: a full pipe would block it.
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      remember(text);
      pending += text;
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        const entry = parseLog(line);
        if (entry) opts.onLog?.(entry);
        const msg = entry?.msg;
        if (typeof msg !== 'string' || !msg.startsWith(LISTENING) || child.pid === undefined) continue;
        const url = msg.slice(LISTENING.length);
        clearTimeout(timer);
        child.off('exit', onEarlyExit);
        resolve(handle(child, child.pid, url, exited, () => lines.join('\n')));
      }
    });
  });
}

function parseLog(line: string): Record<string, unknown> | null {
  try {
    const entry: unknown = JSON.parse(line);
    return entry !== null && typeof entry === 'object' && !Array.isArray(entry) ? { ...entry } : null;
  } catch {
    return null;
  }
}

function handle(child: ChildProcess, pid: number, url: string, exited: Promise<void>, output: () => string): ChildServer {
  return {
    url,
    pid,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) process.kill(pid, signal);
      await exited;
    },
    output,
  };
}
