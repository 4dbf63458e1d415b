/**
 * The servers under test: the lockstep node and its peers. Each `start*` either returns a
 * running, PING-ready process or says why the side is skipped (tool missing, not built).
 */
import path from 'node:path';
import type { PeerName } from '../suites/types.js';
import {
  freePorts,
  lockstepMissingReason,
  type ManagedProcess,
  startLockstep,
  startRedisServer,
  which,
} from './processes.js';

export type Started = { proc: ManagedProcess } | { skipped: string };

/**
 * Harness self-test only: with `LOCKSTEP_BENCH_FAKE_TARGET=redis` the "lockstep" side is a
 * second redis-server, so the harness can be checked end to end before lockstep exists. The
 * table and the JSON say so loudly; never publish those numbers.
 */
export const FAKE_TARGET = process.env['LOCKSTEP_BENCH_FAKE_TARGET'] === 'redis';
export const LOCKSTEP_LABEL = FAKE_TARGET ? 'fake-lockstep (redis-server)' : 'lockstep';

interface PeerDefinition {
  /** Programs that must be on PATH. */
  tools: readonly string[];
  start(workDir: string): Promise<ManagedProcess>;
}

const PEERS: Record<PeerName, PeerDefinition> = {
  'redis-server': {
    tools: ['redis-server'],
    start: async (workDir) => {
      const [port] = await freePorts(1);
      return startRedisServer({ port: port!, dir: path.join(workDir, 'redis-server') });
    },
  },
};

function missingTools(tools: readonly string[]): string | undefined {
  const missing = tools.filter((t) => which(t) === undefined);
  return missing.length === 0 ? undefined : `${missing.join(', ')} not installed`;
}

export async function startPeer(name: PeerName, workDir: string): Promise<Started> {
  const peer = PEERS[name];
  const missing = missingTools(peer.tools);
  if (missing !== undefined) return { skipped: missing };
  return { proc: await peer.start(workDir) };
}

export async function startLockstepSide(workDir: string, extraArgs: readonly string[]): Promise<Started> {
  if (FAKE_TARGET) {
    const missing = missingTools(['redis-server']);
    if (missing !== undefined) return { skipped: missing };
    const [port] = await freePorts(1);
    const dir = path.join(workDir, 'fake-lockstep');
    return { proc: await startRedisServer({ port: port!, dir, label: 'fake-lockstep' }) };
  }
  const missing = lockstepMissingReason();
  if (missing !== undefined) return { skipped: `${missing} (run npm run build once src/main.ts exists)` };
  const [port, busPort, httpPort] = await freePorts(3);
  const dataDir = path.join(workDir, 'lockstep', 'data');
  return {
    proc: await startLockstep({ port: port!, busPort: busPort!, httpPort: httpPort!, dataDir, extraArgs }),
  };
}
