/**
 * Processes the cluster benchmarks start themselves (the etcd members): spawned with their
 * output in a log file, remembered by PID, stopped by PID (SIGTERM, then SIGKILL), never by
 * name. `killAllTrackedNow()` is the last resort from a synchronous `exit` handler.
 *
 * (bench/lib/processes.ts has the same logic but does not export its `start`; the lockstep
 * nodes themselves are children of tools/local-cluster.ts and tracked by bench/lib/cluster-lockstep.ts.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

const STOP_GRACE_MS = 3_000;
const LOG_TAIL_BYTES = 2_000;

export interface TrackedProcess {
  readonly label: string;
  readonly pid: number;
  readonly logPath: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

const running = new Map<number, ChildProcess>();

/** Starts `cmd` with stdout and stderr going to `<dir>/<label>.log`; `env` replaces the environment. */
export function spawnTracked(
  label: string,
  cmd: string,
  args: readonly string[],
  dir: string,
  env: NodeJS.ProcessEnv,
): TrackedProcess {
  mkdirSync(dir, { recursive: true });
  const logPath = path.join(dir, `${label}.log`);
  const logFd = openSync(logPath, 'a');
  const child = spawn(cmd, args, { cwd: dir, env, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  if (child.pid === undefined) {
    child.once('error', () => {});
    throw new Error(`could not start ${label}: ${cmd} ${args.join(' ')}`);
  }
  const pid = child.pid;
  running.set(pid, child);
  let exitedFlag = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null): void => {
      exitedFlag = true;
      running.delete(pid);
      resolve({ code, signal });
    };
    child.once('exit', done);
    child.once('error', () => done(null, null));
  });
  return { label, pid, logPath, exited, hasExited: () => exitedFlag };
}

export function trackedLogTail(proc: TrackedProcess): string {
  try {
    return readFileSync(proc.logPath, 'utf8').slice(-LOG_TAIL_BYTES).trimEnd();
  } catch {
    return '(no log)';
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopTracked(proc: TrackedProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (proc.hasExited()) return;
  const child = running.get(proc.pid);
  child?.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), graceMs);
  });
  const outcome = await Promise.race([proc.exited, gaveUp]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    child?.kill('SIGKILL');
    await proc.exited;
  }
}

export function killAllTrackedNow(): void {
  for (const child of running.values()) child.kill('SIGKILL');
}

/** The environment without variables whose names start with one of `prefixes`. */
export function envWithout(...prefixes: string[]): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !prefixes.some((p) => name.startsWith(p))),
  );
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
