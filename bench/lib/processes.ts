/**
 * Starting and stopping the servers a benchmark talks to. Every process started here is
 * remembered by PID so `stopAll()` can end exactly those (SIGTERM, then SIGKILL), also on
 * Ctrl-C or a crash of the harness; nothing is ever killed by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './paths.js';

const READY_TIMEOUT_MS = 15_000;
const READY_POLL_INTERVAL_MS = 100;
const PING_TIMEOUT_MS = 500;
const STOP_GRACE_MS = 3_000;
const LOG_TAIL_BYTES = 2_000;

export interface ManagedProcess {
  readonly label: string;
  readonly pid: number;
  readonly port: number;
  readonly logPath: string;
  /** Resolves when the process has exited, for whatever reason. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True once the process has exited. */
  hasExited(): boolean;
}

interface Tracked {
  child: ChildProcess;
  managed: ManagedProcess;
}

const running = new Map<number, Tracked>();

/** Full path of `cmd` on PATH, or undefined when it is not installed. */
export function which(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, cmd);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/**
 * `count` distinct free loopback ports. All listeners stay open until every port is chosen,
 * so the kernel cannot hand out the same port twice; another process could still take one
 * before our server binds it, which `waitReady` then reports.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

/** One PING over a fresh connection; true only on `+PONG`. */
export function ping(port: number, timeoutMs = PING_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let received = '';
    const finish = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n')) finish(received.startsWith('+PONG\r\n'));
    });
  });
}

/** The environment without the variables whose names start with one of `prefixes`. */
export function envWithout(...prefixes: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !prefixes.some((p) => name.startsWith(p))),
  );
}

/**
 * Starts `cmd` with stdout and stderr going to `<dir>/<label>.log`; `dir` is also its working
 * directory, `port` the one it serves (for `waitReady` and messages), `env` replaces the
 * environment. Tracked by PID until it exits: `stop`, `stopAll`, `killAllNow`.
 */
export function start(
  label: string,
  cmd: string,
  args: readonly string[],
  port: number,
  dir: string,
  env = process.env,
): ManagedProcess {
  mkdirSync(dir, { recursive: true });
  const logPath = path.join(dir, `${label}.log`);
  // The child writes straight to a file: a pipe nobody drains would stall a chatty server.
  const logFd = openSync(logPath, 'a');
  const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  if (child.pid === undefined) {
    // Spawn failed (ENOENT, EACCES); Node still emits 'error', which must not go unhandled.
    child.once('error', () => {});
    throw new Error(`could not start ${label}: ${cmd} ${args.join(' ')}`);
  }
  const pid = child.pid;
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      running.delete(pid);
      resolve({ code, signal });
    });
    child.once('error', () => {
      exitedFlag = true;
      running.delete(pid);
      resolve({ code: null, signal: null });
    });
  });
  const managed: ManagedProcess = { label, pid, port, logPath, exited, hasExited: () => exitedFlag };
  running.set(pid, { child, managed });
  return managed;
}

/** The last bytes of a process's log, for error messages. */
export function logTail(proc: ManagedProcess): string {
  try {
    const text = readFileSync(proc.logPath, 'utf8');
    return text.slice(-LOG_TAIL_BYTES).trimEnd();
  } catch {
    return '(no log)';
  }
}

function logMatches(proc: ManagedProcess, pattern: RegExp): boolean {
  try {
    return pattern.test(readFileSync(proc.logPath, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * Waits until the process has logged `readyPattern` and its port answers PING with `+PONG`.
 * The log line proves the answer comes from our process and not from whoever else may have
 * taken the port between `freePorts` and the bind (then our server exits and we report it).
 */
export async function waitReady(
  proc: ManagedProcess,
  readyPattern: RegExp,
  timeoutMs = READY_TIMEOUT_MS,
): Promise<void> {
  const deadlineMs = Date.now() + timeoutMs;
  while (Date.now() < deadlineMs) {
    if (proc.hasExited()) {
      throw new Error(
        `${proc.label} (pid ${proc.pid}) exited before it was ready\nlog tail:\n${logTail(proc)}`,
      );
    }
    if (logMatches(proc, readyPattern) && (await ping(proc.port))) return;
    await new Promise((resolve) => setTimeout(resolve, READY_POLL_INTERVAL_MS));
  }
  await stop(proc);
  throw new Error(
    `${proc.label} was not ready on port ${proc.port} within ${timeoutMs} ms\nlog tail:\n${logTail(proc)}`,
  );
}

export interface RedisServerOptions {
  port: number;
  /** Directory for redis-server's files and log. */
  dir: string;
  /** Turns the AOF on with this fsync policy; without it nothing is persisted. */
  appendfsync?: 'always' | 'everysec' | 'no';
  label?: string;
}

export async function startRedisServer(opts: RedisServerOptions): Promise<ManagedProcess> {
  const bin = which('redis-server');
  if (bin === undefined) throw new Error('redis-server is not installed');
  mkdirSync(opts.dir, { recursive: true });
  const persistence =
    opts.appendfsync === undefined
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', opts.appendfsync];
  // biome-ignore format: flag/value pairs read better one pair per line
  const args = [
    '--port', String(opts.port),
    '--bind', '127.0.0.1',
    '--dir', opts.dir,
    '--save', '',
    ...persistence,
  ];
  const proc = start(opts.label ?? 'redis-server', bin, args, opts.port, opts.dir);
  await waitReady(proc, /Ready to accept connections/);
  return proc;
}

export const LOCKSTEP_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'main.js');

/** Why lockstep cannot be started, or undefined when it can. */
export function lockstepMissingReason(): string | undefined {
  return existsSync(LOCKSTEP_MAIN) ? undefined : `${path.relative(REPO_ROOT, LOCKSTEP_MAIN)} not built`;
}

export interface LockstepOptions {
  port: number;
  busPort: number;
  httpPort: number;
  dataDir: string;
  extraArgs?: readonly string[];
  label?: string;
}

export async function startLockstep(opts: LockstepOptions): Promise<ManagedProcess> {
  const missing = lockstepMissingReason();
  if (missing !== undefined) throw new Error(`cannot start lockstep: ${missing}`);
  mkdirSync(opts.dataDir, { recursive: true });
  // biome-ignore format: flag/value pairs read better one pair per line
  const args = [
    LOCKSTEP_MAIN,
    '--port', String(opts.port),
    '--bus-port', String(opts.busPort),
    '--http-port', String(opts.httpPort),
    '--data', opts.dataDir,
    '--id', 'n1',
    '--bind', '127.0.0.1',
    ...(opts.extraArgs ?? []),
  ];
  // Only the flags above configure the node: no LOCKSTEP_* variable from the caller's shell, and
  // a working directory of its own so no stray .env file is read. The log sits next to (not
  // inside) the data directory, which belongs to lockstep.
  const env = envWithout('LOCKSTEP_');
  const dir = path.dirname(opts.dataDir);
  const proc = start(opts.label ?? 'lockstep', process.execPath, args, opts.port, dir, env);
  // main.ts prints a line containing `ready` once it accepts connections.
  await waitReady(proc, /\bready\b/i);
  return proc;
}

/** SIGTERM, then SIGKILL if the process is still there after `graceMs`. */
export async function stop(proc: ManagedProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (proc.hasExited()) return;
  const tracked = running.get(proc.pid);
  tracked?.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([proc.exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    tracked?.child.kill('SIGKILL');
    await proc.exited;
  }
}

/** Stops every process this module started and that is still running. */
export async function stopAll(): Promise<void> {
  await Promise.all([...running.values()].map((t) => stop(t.managed)));
}

/** Last resort from a synchronous `exit` handler: no time left for a grace period. */
export function killAllNow(): void {
  for (const { child } of running.values()) child.kill('SIGKILL');
}
