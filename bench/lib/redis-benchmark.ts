/**
 * One bounded run of `redis-benchmark --csv` and the parse of its output. Verified against
 * redis-benchmark 7.0.15: it prints a header row, then one row per test; a custom command's
 * test name is the command line itself (`"ECHO hello"`).
 */
import { spawn } from 'node:child_process';

/** A built-in test (`-t ping_mbulk`) or a custom command line (`ECHO hello`). */
export type BenchCommand = { readonly test: string } | { readonly args: readonly string[] };

export const builtin = (test: string): BenchCommand => ({ test });
export const custom = (...args: string[]): BenchCommand => ({ args });

export function describeCommand(command: BenchCommand): string {
  return 'test' in command ? `-t ${command.test}` : command.args.join(' ');
}

export interface LoadSpec {
  port: number;
  clients: number;
  pipeline: number;
  requests: number;
  command: BenchCommand;
  timeoutMs: number;
  /** Aborts the run (Ctrl-C, or the server under test died). */
  signal?: AbortSignal;
}

export interface LoadResult {
  test: string;
  rps: number;
  avgLatencyMs: number;
  minLatencyMs: number;
  p50LatencyMs: number;
  p95LatencyMs: number;
  p99LatencyMs: number;
  maxLatencyMs: number;
}

/** redis-benchmark's CSV columns, mapped to our field names. */
const COLUMNS = {
  rps: 'rps',
  avg_latency_ms: 'avgLatencyMs',
  min_latency_ms: 'minLatencyMs',
  p50_latency_ms: 'p50LatencyMs',
  p95_latency_ms: 'p95LatencyMs',
  p99_latency_ms: 'p99LatencyMs',
  max_latency_ms: 'maxLatencyMs',
} as const satisfies Record<string, Exclude<keyof LoadResult, 'test'>>;

const OUTPUT_LIMIT_BYTES = 1 << 20;

export function redisBenchmarkArgs(spec: LoadSpec): string[] {
  // biome-ignore format: flag/value pairs read better one pair per line
  const args = [
    '-h', '127.0.0.1',
    '-p', String(spec.port),
    '-c', String(spec.clients),
    '-n', String(spec.requests),
    '-P', String(spec.pipeline),
    '--csv',
  ];
  // A custom command goes last, as plain arguments: redis-benchmark 7 has no `--` separator.
  return 'test' in spec.command ? [...args, '-t', spec.command.test] : [...args, ...spec.command.args];
}

/** Splits one CSV line; fields may be quoted, with `""` for a literal quote. */
function splitCsvLine(line: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
    } else {
      field += ch;
    }
  }
  fields.push(field);
  return fields;
}

/** Parses `--csv` output; throws when the header or a number is not what we expect. */
export function parseCsv(text: string): LoadResult[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const headerIndex = lines.findIndex((l) => l.startsWith('"test"'));
  if (headerIndex < 0) throw new Error(`no CSV header in redis-benchmark output: ${text.slice(0, 200)}`);
  const header = splitCsvLine(lines[headerIndex]!);
  const indexOf = (column: string): number => {
    const index = header.indexOf(column);
    if (index < 0) throw new Error(`redis-benchmark CSV lacks column "${column}": ${header.join(',')}`);
    return index;
  };
  const testIndex = indexOf('test');
  const numeric = Object.entries(COLUMNS).map(([column, key]) => ({ key, index: indexOf(column) }));
  return lines.slice(headerIndex + 1).map((line) => {
    const fields = splitCsvLine(line);
    const result: LoadResult = {
      test: fields[testIndex] ?? '',
      rps: 0,
      avgLatencyMs: 0,
      minLatencyMs: 0,
      p50LatencyMs: 0,
      p95LatencyMs: 0,
      p99LatencyMs: 0,
      maxLatencyMs: 0,
    };
    for (const { key, index } of numeric) {
      const value = Number(fields[index]);
      if (!Number.isFinite(value)) throw new Error(`bad ${key} in redis-benchmark CSV row: ${line}`);
      result[key] = value;
    }
    return result;
  });
}

/** Runs redis-benchmark once; rejects on a non-zero exit, a timeout, an abort or no result. */
export function runRedisBenchmark(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', redisBenchmarkArgs(spec), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let failure: Error | undefined;
    const fail = (error: Error): void => {
      failure ??= error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => fail(new Error(`redis-benchmark timed out after ${spec.timeoutMs} ms`)),
      spec.timeoutMs,
    );
    const onAbort = (): void => fail(new Error(`redis-benchmark aborted: ${String(spec.signal?.reason)}`));
    if (spec.signal?.aborted) onAbort();
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout.length < OUTPUT_LIMIT_BYTES) stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < OUTPUT_LIMIT_BYTES) stderr += chunk.toString('utf8');
      // redis-benchmark 7.0 prints this and then spins at 100% CPU forever instead of exiting.
      if (stderr.includes('Could not connect')) fail(new Error(`redis-benchmark: ${stderr.trim()}`));
    });
    child.once('error', (error) => fail(error));
    child.once('close', (code) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) return reject(failure);
      if (code !== 0) {
        const detail = (stderr.trim() || stdout.trim()).split('\n').slice(-3).join(' | ');
        return reject(new Error(`redis-benchmark exited with ${code}: ${detail}`));
      }
      try {
        const [row] = parseCsv(stdout);
        if (row === undefined) throw new Error(`redis-benchmark printed no result: ${stderr.trim()}`);
        resolve(row);
      } catch (error) {
        reject(error);
      }
    });
  });
}
