/**
 * A local etcd cluster for the replicated-write comparison: N members (default 3) of
 * `/usr/bin/etcd` on loopback, a static `--initial-cluster`, each with its own client and peer
 * port and a temporary data directory, default durability (etcd fsyncs its WAL before it
 * acknowledges a write; there is no switch to turn that off). Started and stopped by PID.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { envWithout, freePorts, logTail, type ManagedProcess, start, stop, which } from './processes.js';

const HEALTH_TIMEOUT_MS = 30_000;
const HTTP_TIMEOUT_MS = 2_000;

export interface EtcdMember {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly clientUrl: string;
  readonly proc: ManagedProcess;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly version: string;
}

/** `etcd --version`'s `etcd Version: 3.4.23`, or undefined when etcd is not installed. */
export function etcdVersion(): string | undefined {
  const bin = which('etcd');
  if (bin === undefined) return undefined;
  try {
    const output = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 5_000 });
    return /etcd Version:\s*(\S+)/.exec(output)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<unknown> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

/** True when `GET /health` says `{"health":"true"}` (etcd 3.4: the member has a leader). */
async function healthy(member: EtcdMember): Promise<boolean> {
  try {
    const body = (await fetchJson(`${member.clientUrl}/health`)) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

export async function startEtcdCluster(opts: {
  workDir: string;
  size?: number;
  log: (line: string) => void;
}): Promise<EtcdCluster> {
  const bin = which('etcd');
  if (bin === undefined) throw new Error('etcd is not installed');
  const version = etcdVersion() ?? 'unknown';
  const size = opts.size ?? 3;
  const ports = await freePorts(2 * size);
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `etcd${i + 1}`,
    clientPort: ports[2 * i]!,
    peerPort: ports[2 * i + 1]!,
  }));
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peerPort}`).join(',');
  const token = `lockstep-bench-${process.pid}-${Date.now()}`;
  // ETCD_* variables would override flags or add members: the flags alone configure the members.
  const env = envWithout('ETCD_', 'ETCDCTL_');
  const members: EtcdMember[] = [];
  try {
    for (const spec of specs) {
      const dir = path.join(opts.workDir, spec.name);
      const clientUrl = `http://127.0.0.1:${spec.clientPort}`;
      const peerUrl = `http://127.0.0.1:${spec.peerPort}`;
      // biome-ignore format: flag/value pairs read better one pair per line
      const args = [
        '--name', spec.name,
        '--data-dir', path.join(dir, 'data'),
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', 'new',
        '--initial-cluster-token', token,
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ];
      const proc = start(spec.name, bin, args, spec.clientPort, dir, env);
      members.push({ ...spec, clientUrl, proc });
    }
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    for (;;) {
      const dead = members.find((m) => m.proc.hasExited());
      if (dead !== undefined) {
        throw new Error(
          `${dead.name} (pid ${dead.proc.pid}) exited at start\nlog tail:\n${logTail(dead.proc)}`,
        );
      }
      if ((await Promise.all(members.map(healthy))).every(Boolean)) break;
      if (Date.now() > deadline) {
        throw new Error(
          `etcd cluster not healthy within ${HEALTH_TIMEOUT_MS} ms\nlog tail of ${members[0]!.name}:\n` +
            logTail(members[0]!.proc),
        );
      }
      await sleep(200);
    }
    opts.log(
      `etcd ${version}: ${size} members healthy, client ports ${members.map((m) => m.clientPort).join(', ')}`,
    );
    return { members, version };
  } catch (error) {
    await Promise.all(members.map((m) => stop(m.proc)));
    throw error;
  }
}

export async function stopEtcdCluster(cluster: EtcdCluster): Promise<void> {
  await Promise.all(cluster.members.map((m) => stop(m.proc)));
}

interface StatusResponse {
  header?: { member_id?: string };
  leader?: string;
}

/**
 * The current leader, from the v3 JSON gateway's `POST /v3/maintenance/status` on each member
 * (the member whose own id equals the leader id it reports).
 */
export async function etcdLeader(cluster: EtcdCluster): Promise<EtcdMember> {
  for (const member of cluster.members) {
    if (member.proc.hasExited()) continue;
    try {
      const status = (await fetchJson(`${member.clientUrl}/v3/maintenance/status`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      })) as StatusResponse;
      if (status.leader !== undefined && status.leader === status.header?.member_id) return member;
    } catch {
      // this member does not answer: ask the next one
    }
  }
  throw new Error('no etcd member reports itself as the leader');
}

/** The JSON body of a v3 gateway put: key and value base64-encoded. */
export function etcdPutBody(key: string, value: string): string {
  return JSON.stringify({
    key: Buffer.from(key).toString('base64'),
    value: Buffer.from(value).toString('base64'),
  });
}

/** One put through the gateway; throws unless etcd answers with a header carrying a revision. */
export async function etcdPutOnce(member: EtcdMember, key: string, value: string): Promise<void> {
  const body = (await fetchJson(`${member.clientUrl}/v3/kv/put`, {
    method: 'POST',
    body: etcdPutBody(key, value),
    headers: { 'content-type': 'application/json' },
  })) as { header?: { revision?: string } };
  if (body.header?.revision === undefined) {
    throw new Error(`etcd put: unexpected answer ${JSON.stringify(body).slice(0, 200)}`);
  }
}
