import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// A string, not `new URL(...)`: under happy-dom the global URL is not Node's, and fileURLToPath refuses it.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const LISTENING = 'Composure listening on ';

/**
 * The real server as a child process (`node --import tsx server/main.ts`),
 * so a test can SIGKILL it, SIGTERM it and read its RSS, which an in-process
 * server cannot give, or run it beside an environment (happy-dom) that
 * cannot host it.
 */
export interface ServerProcess {
  readonly pid: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The SQLite file it serves: `StartOptions.dbFile`, or the temporary one made for it. */
  readonly dbFile: string;
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
  /** SIGTERMs it and waits for the exit, SIGKILLing it if it outlives `graceMs` (@default 10000). */
  stop(graceMs?: number): Promise<ExitStatus & { ms: number; killed: boolean }>;
  /** SIGKILLs it and waits for the exit. */
  kill(): Promise<ExitStatus>;
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
  /** The SQLite file. @default a fresh file in a temporary directory, removed when the process exits */
  dbFile?: string;
  /** 0 lets the OS pick; a crash test passes the previous port to restart in place. @default 0 */
  port?: number;
  /** Overrides of the defaults below (see server/config.ts for every variable); `undefined` unsets one. */
  env?: Record<string, string | undefined>;
  /**
   * Whether the child sees the parent's whole environment, REDIS_URL excepted
   * (pass it in `env` to use Redis), or only PATH, HOME and TMPDIR. The defaults
   * below and `env` win over inherited variables either way.
   * @default false
   */
  inheritEnv?: boolean;
  /** How long the server may take to log that it listens. @default 30000 */
  startTimeoutMs?: number;
  /** Called with every JSON log line the process writes, parsed. */
  onLog?: (entry: Record<string, unknown>) => void;
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

function inheritedEnv(inherit: boolean): Record<string, string | undefined> {
  // An inherited REDIS_URL (CI sets one) or RATES_URL would change what is being tested.
  if (!inherit) return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TMPDIR: process.env.TMPDIR ?? '/tmp' };
  const { REDIS_URL: _redis, ...rest } = process.env;
  return rest;
}

export async function startServer(opts: StartOptions = {}): Promise<ServerProcess> {
  const tmpDir = opts.dbFile === undefined ? mkdtempSync(join(tmpdir(), 'composure-server-')) : undefined;
  const dbFile = opts.dbFile ?? join(tmpDir ?? '', 'server.db');
  const env: Record<string, string | undefined> = {
    ...inheritedEnv(opts.inheritEnv ?? false),
    NODE_ENV: 'production',
    // Production seeds only when asked; these servers serve the demo tenants.
    SEED: 'true',
    HOST: '127.0.0.1',
    PORT: String(opts.port ?? 0),
    DATABASE_URL: dbFile,
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
      if (tmpDir !== undefined) rmSync(tmpDir, { recursive: true, force: true });
      resolve({ code, signal });
    });
  });

  let output = '';
  const problems: LoggedProblem[] = [];
  const record = (text: string) => {
    if (output.length < MAX_OUTPUT) output += text.slice(0, MAX_OUTPUT - output.length);
  };
  let listening: ((entry: Record<string, unknown>) => void) | null = null;
  const onLine = (line: string) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      problems.push({ level: 100, line });
      return;
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push({ level: 100, line });
      return;
    }
    const entry = { ...parsed } as Record<string, unknown>;
    if (typeof entry.level === 'number' && entry.level >= 40) problems.push({ level: entry.level, line });
    opts.onLog?.(entry);
    if (typeof entry.msg === 'string' && entry.msg.startsWith(LISTENING)) listening?.(entry);
  };
  // Keep reading both pipes for the child's whole life: a full pipe would block it.
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
  // Only this child's pid: other work runs on this machine.
  const signal = (sig: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  };
  const server: ServerProcess = {
    pid,
    url: started.url,
    // A regex, not `new URL()`: under happy-dom the global URL is not Node's.
    port: Number(/:(\d+)$/.exec(started.url)?.[1] ?? Number.NaN),
    dbFile,
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
    signal,
    stop: (graceMs = 10_000) => {
      signal('SIGTERM');
      return waitForExit(server, graceMs);
    },
    kill: () => {
      signal('SIGKILL');
      return exited;
    },
  };
  return server;
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
