/**
 * Carries out faults on the real processes and records each one: kill -9 and restart, SIGSTOP
 * and SIGCONT, partitions through DEBUG.PARTITION (each node's bus transport drops its
 * connections to the named peers and refuses new ones, in both directions), and clock steps
 * through DEBUG.CLOCKSKEW. Every fault has its heal, and `healAll` undoes whatever is left.
 */
import type { LocalCluster } from '../local-cluster.js';
import { ChaosClient } from './client.js';
import { describePlan, type FaultPlan } from './fault-plan.js';
import type { NemesisAction } from './history.js';
import type { Recorder } from './recorder.js';

export class Nemesis {
  readonly #cluster: LocalCluster;
  readonly #recorder: Recorder;
  readonly #control = new Map<string, ChaosClient>();
  readonly #killed = new Set<string>();
  readonly #paused = new Set<string>();
  readonly #skewed = new Set<string>();
  #partitioned = false;

  constructor(cluster: LocalCluster, recorder: Recorder) {
    this.#cluster = cluster;
    this.#recorder = recorder;
    for (const n of cluster.nodes) this.#control.set(n.id, new ChaosClient(n.port));
  }

  /** Nodes that are killed or paused right now (their answers cannot be waited for). */
  unavailable(): Set<string> {
    return new Set([...this.#killed, ...this.#paused]);
  }

  async inject(fault: FaultPlan): Promise<void> {
    const detail = describePlan(fault);
    switch (fault.kind) {
      case 'kill':
        await this.#cluster.kill(fault.node);
        this.#killed.add(fault.node);
        this.#record('kill', [fault.node], detail);
        return;
      case 'pause':
        this.#cluster.pause(fault.node);
        this.#paused.add(fault.node);
        this.#record('pause', [fault.node], detail);
        return;
      case 'skew':
        await this.#command(fault.node, ['DEBUG.CLOCKSKEW', fault.skewMs]);
        this.#skewed.add(fault.node);
        this.#record('skew', [fault.node], detail, { skewMs: fault.skewMs });
        return;
      case 'partition':
        await Promise.all(
          [...fault.blocked].map(([node, peers]) => this.#command(node, ['DEBUG.PARTITION', ...peers])),
        );
        this.#partitioned = true;
        this.#record(
          'partition',
          [...fault.blocked].filter(([, peers]) => peers.length > 0).map(([n]) => n),
          detail,
          { components: fault.components },
        );
        return;
    }
  }

  /** Undoes one fault. */
  async heal(fault: FaultPlan): Promise<void> {
    switch (fault.kind) {
      case 'kill':
        await this.#cluster.restart(fault.node);
        this.#killed.delete(fault.node);
        this.#record('restart', [fault.node], `restart ${fault.node}`);
        return;
      case 'pause':
        this.#cluster.resume(fault.node);
        this.#paused.delete(fault.node);
        this.#record('resume', [fault.node], `SIGCONT ${fault.node}`);
        return;
      case 'skew':
        await this.#command(fault.node, ['DEBUG.CLOCKSKEW', 0]);
        this.#skewed.delete(fault.node);
        this.#record('unskew', [fault.node], `clock of ${fault.node} back`);
        return;
      case 'partition':
        await this.#healPartitions();
        return;
    }
  }

  /** Undoes everything still in effect. */
  async healAll(): Promise<void> {
    for (const node of [...this.#paused]) await this.heal({ kind: 'pause', node });
    for (const node of [...this.#killed]) await this.heal({ kind: 'kill', node });
    for (const node of [...this.#skewed]) await this.heal({ kind: 'skew', node, skewMs: 0 });
    if (this.#partitioned) await this.#healPartitions();
  }

  close(): void {
    for (const c of this.#control.values()) c.close();
  }

  async #healPartitions(): Promise<void> {
    await Promise.all(this.#cluster.nodes.map((n) => this.#command(n.id, ['DEBUG.PARTITION'])));
    this.#partitioned = false;
    this.#record(
      'heal',
      this.#cluster.nodes.map((n) => n.id),
      'heal every partition',
    );
  }

  #record(
    action: NemesisAction,
    nodes: readonly string[],
    detail: string,
    extra: { skewMs?: number; components?: readonly (readonly string[])[] } = {},
  ): void {
    this.#recorder.add({ type: 'nemesis', action, nodes, detail, timeMs: this.#recorder.nowMs(), ...extra });
  }

  /** A control command the run depends on: retried for a while, then a hard failure of the run. */
  async #command(node: string, args: (string | number)[]): Promise<void> {
    const client = this.#control.get(node)!;
    let last = '';
    for (let attempt = 0; attempt < 50; attempt++) {
      const result = await client.call(args, 2000);
      if (result.kind === 'reply') return;
      last = result.kind === 'error' ? result.message : result.reason;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`nemesis: ${args.join(' ')} on ${node} failed: ${last}`);
  }
}
