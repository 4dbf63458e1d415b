/**
 * Starts and controls a cluster of real lockstep processes on loopback: `npm start`, the
 * integration and fault tests and the benchmarks all use it. Each node is an OS process of
 * `dist/src/main.js` (the same entrypoint as the container), so what is tested is what ships.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/**
 * The built entrypoint. This module runs compiled (dist/tools/) for `npm start` and as
 * TypeScript (tools/) under the tests; both start the same `dist/src/main.js`, which `npm test`
 * builds first.
 */
const HERE = dirname(fileURLToPath(import.meta.url));
const MAIN = HERE.endsWith(join('dist', 'tools'))
  ? resolve(HERE, '..', 'src', 'main.js')
  : resolve(HERE, '..', 'dist', 'src', 'main.js');

export interface LocalNodeSpec {
  readonly id: string;
  readonly port: number;
  readonly busPort: number;
  readonly httpPort: number;
  /** RESP over TLS, with `baseTlsPort`; null without. */
  readonly tlsPort: number | null;
  readonly dataDir: string;
  readonly args: readonly string[];
}

export interface LocalClusterOptions {
  /** How many nodes (ids n1..nN). */
  readonly size: number;
  readonly basePort?: number;
  readonly baseHttpPort?: number;
  /** Gives node i `--tls-port baseTlsPort + i` (the TLS files go in `extraArgs`). */
  readonly baseTlsPort?: number;
  readonly dataRoot?: string;
  /** How many of the nodes `start()` starts (default all); start the rest later with `restart(id)`. */
  readonly startCount?: number;
  /** Extra flags for every node. */
  readonly extraArgs?: readonly string[];
  /** Called with each line a node prints (its pino JSON log). */
  readonly onLog?: (nodeId: string, line: string) => void;
}

export class LocalCluster {
  readonly nodes: readonly LocalNodeSpec[];
  readonly #processes = new Map<string, ChildProcess>();
  readonly #onLog: (nodeId: string, line: string) => void;
  readonly #startCount: number;

  constructor(options: LocalClusterOptions) {
    const basePort = options.basePort ?? 7001;
    const baseHttpPort = options.baseHttpPort ?? 8001;
    const dataRoot = resolve(options.dataRoot ?? 'data');
    const seed = `127.0.0.1:${basePort}`;
    this.nodes = Array.from({ length: options.size }, (_, i) => {
      const id = `n${i + 1}`;
      const port = basePort + i;
      const spec = {
        id,
        port,
        busPort: port + 10000,
        httpPort: baseHttpPort + i,
        tlsPort: options.baseTlsPort === undefined ? null : options.baseTlsPort + i,
        dataDir: join(dataRoot, id),
      };
      const args = [
        '--id',
        id,
        '--port',
        String(spec.port),
        '--bus-port',
        String(spec.busPort),
        '--http-port',
        String(spec.httpPort),
        '--data',
        spec.dataDir,
        ...(spec.tlsPort === null ? [] : ['--tls-port', String(spec.tlsPort)]),
        ...(i === 0 ? [] : ['--join', seed]),
        ...(options.extraArgs ?? []),
      ];
      return { ...spec, args };
    });
    this.#onLog = options.onLog ?? (() => {});
    this.#startCount = options.startCount ?? options.size;
  }

  node(id: string): LocalNodeSpec {
    const spec = this.nodes.find((n) => n.id === id);
    if (!spec) throw new Error(`no node ${id} in this cluster`);
    return spec;
  }

  pid(id: string): number | undefined {
    return this.#processes.get(id)?.pid;
  }

  isRunning(id: string): boolean {
    const child = this.#processes.get(id);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Starts the nodes (the first `startCount`) and waits until each answers PING. */
  async start(timeoutMs = 15_000): Promise<void> {
    const first = this.nodes.slice(0, this.#startCount);
    for (const spec of first) this.#spawn(spec);
    await Promise.all(first.map((spec) => waitForPing(spec.port, timeoutMs)));
  }

  /** Ids of the nodes whose process is running. */
  running(): string[] {
    return this.nodes.filter((n) => this.isRunning(n.id)).map((n) => n.id);
  }

  async restart(id: string, timeoutMs = 15_000): Promise<void> {
    if (this.isRunning(id)) await this.stop(id);
    const spec = this.node(id);
    this.#spawn(spec);
    await waitForPing(spec.port, timeoutMs);
  }

  /** `kill -9`: no shutdown code runs, as in a power cut. */
  async kill(id: string): Promise<void> {
    await this.#signalAndWait(id, 'SIGKILL', 5000);
  }

  pause(id: string): void {
    this.#processes.get(id)?.kill('SIGSTOP');
  }

  resume(id: string): void {
    this.#processes.get(id)?.kill('SIGCONT');
  }

  /** SIGTERM, then SIGKILL if the node has not exited within `graceMs`. */
  async stop(id: string, graceMs = 5000): Promise<void> {
    this.resume(id);
    const stopped = await this.#signalAndWait(id, 'SIGTERM', graceMs);
    if (!stopped) await this.#signalAndWait(id, 'SIGKILL', 5000);
  }

  async stopAll(graceMs = 5000): Promise<void> {
    await Promise.all(this.nodes.map((spec) => this.stop(spec.id, graceMs)));
  }

  #spawn(spec: LocalNodeSpec): void {
    mkdirSync(spec.dataDir, { recursive: true });
    const child = spawn(process.execPath, [MAIN, ...spec.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#processes.set(spec.id, child);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => this.#onLog(spec.id, line));
    }
  }

  async #signalAndWait(id: string, signal: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
    const child = this.#processes.get(id);
    if (!child || !this.isRunning(id)) return true;
    const exited = new Promise<boolean>((resolveExit) => {
      const timer = setTimeout(() => resolveExit(false), timeoutMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolveExit(true);
      });
    });
    child.kill(signal);
    return exited;
  }
}

/**
 * Resolves once `PING` on `port` answers `+PONG`, or `-NOAUTH` from a node that requires a
 * password (it is up, and answering is all this waits for); rejects after `timeoutMs`.
 */
export async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pingOnce(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no PONG from port ${port} within ${timeoutMs} ms`);
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const done = (ok: boolean) => {
      socket.destroy();
      resolvePing(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(/^(\+PONG|-NOAUTH)/.test(data.toString())));
  });
}
