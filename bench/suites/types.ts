/**
 * What a suite declares. A suite is data: the runner (bench/lib/compare.ts) starts the
 * servers, interleaves the rounds, takes medians and prints the table for every suite alike.
 */
import type { RunOptions, ScenarioResult } from '../lib/compare.js';
import type { BenchCommand } from '../lib/redis-benchmark.js';

/** The peers a scenario can be compared with; each is started by bench/lib/targets.ts. */
export type PeerName = 'redis-server';

export interface Scenario {
  /** Row label in the table, e.g. `PING mbulk -c 50 -P 16`. */
  name: string;
  lockstepCommand: BenchCommand;
  peer: PeerName;
  peerCommand: BenchCommand;
  clients: number;
  pipeline: number;
  /** Requests per round (the `--quick` run scales this down). */
  requests: number;
  /** PASS when lockstep rps / peer rps is at least this, else BELOW (informational). */
  targetRatio: number;
}

export interface Suite {
  name: string;
  /** One line for `--list` and the README: what the suite measures. */
  summary: string;
  /** Extra command-line flags for the lockstep node this suite runs against. */
  lockstepArgs?: readonly string[];
  scenarios: readonly Scenario[];
  /**
   * A suite that redis-benchmark cannot drive (the HTTP API, loaded with autocannon) runs
   * itself and returns rows of the same shape; its `scenarios` are then empty.
   */
  run?: (opts: RunOptions) => Promise<ScenarioResult[]>;
}
