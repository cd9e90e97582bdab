import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const LISTENING = 'Composure listening on ';

/**
 * The real server as a child process (`node --import tsx server/main.ts`),
 * so a test can SIGKILL it, SIGTERM it and read its RSS, which an in-process
 * server cannot give.
 */
export interface ServerProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The built-in rates simulator's endpoint (`…/rates`), from the startup log line. */
  readonly ratesSimulatorUrl: string | undefined;
  /** Resolves when the process has exited, however it ended. */
  readonly exited: Promise<ExitStatus>;
  /** Log lines at warn level or above, and every line that is not JSON (a crash trace, an unhandled rejection). */
  readonly problems: LoggedProblem[];
  /** Everything the process wrote, for failure messages (bounded). */
  output(): string;
  /** VmRSS in bytes, from /proc. */
  rssBytes(): number;
  signal(signal: NodeJS.Signals): void;
}

export interface LoggedProblem {
  /** pino's level (40 warn, 50 error, 60 fatal); 100 for a line that is not JSON. */
  level: number;
  line: string;
}

/** Errors, fatals and non-JSON lines: what no healthy run should print. */
export function severe(problems: readonly LoggedProblem[]): string[] {
  return problems.filter((p) => p.level >= 50).map((p) => p.line.slice(0, 500));
}

/** Severe log lines grouped by message and error, e.g. `unexpected error: RangeError: Maximum call stack size exceeded ×205`. */
export function severeSummary(problems: readonly LoggedProblem[]): string[] {
  const groups = new Map<string, number>();
  for (const p of problems) {
    if (p.level < 50) continue;
    let key = p.line.slice(0, 160);
    try {
      const entry = JSON.parse(p.line) as { msg?: unknown; err?: { type?: unknown; message?: unknown } };
      key = `${String(entry.msg)}: ${String(entry.err?.type)}: ${String(entry.err?.message).slice(0, 120)}`;
    } catch {
      // Not JSON: the line itself is the group.
    }
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([key, n]) => `${key} ×${n}`);
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  dbFile: string;
  /** 0 lets the OS pick; a crash test passes the previous port to restart in place. @default 0 */
  port?: number;
  /** Overrides of the defaults below (see server/config.ts for every variable). */
  env?: Record<string, string>;
  /** How long the server may take to log that it listens. @default 30000 */
  startTimeoutMs?: number;
}

const live = new Set<ChildProcess>();

// Children must not outlive the test worker, even when a test throws before its own cleanup.
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** SIGKILLs every server this module started that is still running; for afterAll. */
export async function killAllServers(): Promise<void> {
  const waits: Promise<unknown>[] = [];
  for (const child of live) {
    waits.push(new Promise((resolve) => child.once('exit', resolve)));
    child.kill('SIGKILL');
  }
  await Promise.all(waits);
}

const MAX_OUTPUT = 256 * 1024;

export async function startServer(opts: StartOptions): Promise<ServerProcess> {
  const env: Record<string, string> = {
    // Only what node needs from the parent: an inherited REDIS_URL (CI sets
    // one) or RATES_URL would change what is being tested.
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    TMPDIR: process.env.TMPDIR ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(opts.port ?? 0),
    DATABASE_URL: opts.dbFile,
    RATES_SIMULATOR_PORT: '0',
    // info: the startup line carries the URL and the simulator's address.
    LOG_LEVEL: 'info',
    SEED_USERS: '50',
    ...opts.env,
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
  });

  let output = '';
  const problems: LoggedProblem[] = [];
  const record = (text: string) => {
    if (output.length < MAX_OUTPUT) output += text.slice(0, MAX_OUTPUT - output.length);
  };
  let listening: ((line: { url?: unknown; ratesSimulator?: unknown }) => void) | null = null;
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push({ level: 100, line });
      return;
    }
    if (!parsed || typeof parsed !== 'object') {
      problems.push({ level: 100, line });
      return;
    }
    const entry = parsed as { level?: unknown; msg?: unknown; url?: unknown; ratesSimulator?: unknown };
    if (typeof entry.level === 'number' && entry.level >= 40) problems.push({ level: entry.level, line });
    if (typeof entry.msg === 'string' && entry.msg.startsWith(LISTENING)) listening?.(entry);
  };
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      record(chunk);
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line);
    });
    stream.on('end', () => {
      if (pending) onLine(pending);
      pending = '';
    });
  }

  const startTimeoutMs = opts.startTimeoutMs ?? 30_000;
  let started: { url: string; ratesSimulatorUrl: string | undefined };
  try {
    started = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within ${startTimeoutMs} ms`)), startTimeoutMs);
      listening = (entry) => {
        clearTimeout(timer);
        const trpcUrl = typeof entry.url === 'string' ? entry.url : '';
        resolve({
          url: trpcUrl.replace(/\/trpc$/, ''),
          ratesSimulatorUrl: typeof entry.ratesSimulator === 'string' ? entry.ratesSimulator : undefined,
        });
      };
      void exited.then((status) => {
        clearTimeout(timer);
        reject(new Error(`server exited before listening (${status.code ?? status.signal})`));
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(err as Error).message}\n${output}`);
  }

  const pid = child.pid;
  if (pid === undefined) throw new Error('spawned server has no pid');
  return {
    pid,
    url: started.url,
    port: Number(new URL(started.url).port),
    ratesSimulatorUrl: started.ratesSimulatorUrl,
    exited,
    problems,
    output: () => output,
    rssBytes: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
      if (kb === undefined) throw new Error(`no VmRSS for pid ${pid}`);
      return Number(kb) * 1024;
    },
    // Only this child's pid: other work runs on this machine.
    signal: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** Waits for the exit, SIGKILLing the process if it outlives `timeoutMs`. */
export async function waitForExit(server: ServerProcess, timeoutMs: number): Promise<ExitStatus & { ms: number; killed: boolean }> {
  const started = Date.now();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    server.signal('SIGKILL');
  }, timeoutMs);
  const status = await server.exited;
  clearTimeout(timer);
  return { ...status, ms: Date.now() - started, killed };
}
