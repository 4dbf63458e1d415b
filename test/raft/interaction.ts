import { readFileSync, writeFileSync } from 'node:fs';
import type { Random } from '../../src/lib/random.js';
import type { RaftConfig, ReadOnlyOption } from '../../src/raft/config.js';
import { describeEntry, describeMessage, describeReady } from '../../src/raft/describe.js';
import { RawNode } from '../../src/raft/raw-node.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { ConfChangeType, Entry, Message, NodeId, Ready } from '../../src/raft/types.js';

/**
 * Scenario tests in the style of etcd-io/raft's `interaction_test.go`: a text file of
 * commands, each followed by `----` and the output it must produce. Running with REWRITE=1
 * regenerates the expected output, so a behaviour change shows up as a readable diff.
 *
 * Nodes are named 1, 2, 3...; every node draws the longest election timeout, 2T − 1 ticks for
 * an election timeout T, so scenarios decide who times out by ticking: `tick-election` ticks
 * 2T − 1 times, and a node ticked T times is out of its leader lease but not yet campaigning.
 * `log-level none` hides everything but the answers to queries, for setting the stage.
 *
 * Commands (ids are node names, `k=v` arguments are optional):
 *   add-nodes N [voters=1,2,3] [learners=4] [empty=true] [election=T] [heartbeat=H]
 *             [prevote=false] [checkquorum=false] [read-only=lease] [max-msg-bytes=B]
 *             [max-inflight=N] [chunk-bytes=B] [inflight-chunks=N]
 *   campaign ID | tick ID [N] | tick-election ID | tick-heartbeat ID
 *   propose ID DATA | propose-conf-change ID TYPE NODE | read-index ID CTX | transfer-leader ID TO
 *   process-ready [IDS] | deliver-msgs [IDS] [type=T,...] | drop-msgs [from=] [to=] [type=] [nth=]
 *   stabilize [IDS] | isolate ID | heal | crash ID | restart ID | compact ID [bytes=B]
 *   status ID | raft-log ID | raft-state | log-level none|info
 */
export interface Directive {
  readonly line: number;
  readonly command: string;
  readonly expected: string;
}

export function parseScenario(text: string): { header: string[]; directives: Directive[] } {
  const lines = text.split('\n');
  const header: string[] = [];
  const directives: Directive[] = [];
  let i = 0;
  let pendingComments: string[] = [];
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      pendingComments.push(line);
      i++;
      continue;
    }
    if (directives.length === 0) header.push(...pendingComments);
    pendingComments = [];
    const commandLine = i + 1;
    const command = line;
    i++;
    if (lines[i] !== '----') throw new Error(`line ${i + 1}: expected ---- after command "${command}"`);
    i++;
    const out: string[] = [];
    while (i < lines.length && lines[i] !== '') out.push(lines[i++]!);
    directives.push({ line: commandLine, command, expected: out.join('\n') });
  }
  return { header, directives };
}

/** Renders a scenario back to text with new outputs, keeping comments in place. */
export function rewriteScenario(text: string, outputs: readonly string[]): string {
  const lines = text.split('\n');
  const result: string[] = [];
  let i = 0;
  let n = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      result.push(line);
      i++;
      continue;
    }
    result.push(line, '----', outputs[n++]!);
    i += 2;
    while (i < lines.length && lines[i] !== '') i++;
  }
  return result.join('\n');
}

const LONGEST_TIMEOUT: Random = { next: () => 0.999_999, int: (_min, max) => max };

interface EnvNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  readonly config: RaftConfig;
  raw: RawNode | null;
  applied: Entry[];
  staging: Uint8Array[];
}

export class InteractionEnv {
  readonly #nodes = new Map<NodeId, EnvNode>();
  #inflight: Message[] = [];
  readonly #isolated = new Set<NodeId>();
  #out: string[] = [];
  #logging = true;

  run(command: string): string {
    this.#out = [];
    const [name, ...rest] = command.trim().split(/\s+/);
    const positional = rest.filter((a) => !a.includes('='));
    const named = new Map(
      rest.filter((a) => a.includes('=')).map((a) => a.split('=', 2) as [string, string]),
    );
    const handler = this.#commands[name!];
    if (handler === undefined) throw new Error(`unknown command ${name}`);
    handler(positional, named);
    return this.#out.length === 0 ? 'ok' : this.#out.join('\n');
  }

  readonly #commands: Record<string, (args: string[], named: Map<string, string>) => void> = {
    'add-nodes': (args, named) => this.#addNodes(Number(args[0]), named),
    campaign: (args) => this.#raw(args[0]!).campaign(),
    tick: (args) => this.#tick(args[0]!, Number(args[1] ?? 1)),
    'tick-election': (args) =>
      this.#tick(args[0]!, 2 * (this.#node(args[0]!).config.electionTimeoutTicks ?? 10) - 1),
    'tick-heartbeat': (args) => this.#tick(args[0]!, this.#node(args[0]!).config.heartbeatTicks ?? 1),
    propose: (args) => {
      const r = this.#raw(args[0]!).propose(new TextEncoder().encode(args[1] ?? ''));
      this.#out.push(r.ok ? `proposed at ${r.term}/${r.index}` : `refused: ${r.reason}`);
    },
    'propose-conf-change': (args) => {
      const r = this.#raw(args[0]!).proposeConfChange({ type: args[1] as ConfChangeType, nodeId: args[2]! });
      this.#out.push(r.ok ? `proposed at ${r.term}/${r.index}` : `refused: ${r.reason}`);
    },
    'read-index': (args) => {
      if (!this.#raw(args[0]!).readIndex(args[1]!)) this.#out.push('refused');
    },
    'transfer-leader': (args) => {
      if (!this.#raw(args[0]!).transferLeader(args[1]!)) this.#out.push('refused');
    },
    'process-ready': (args) => {
      for (const id of args.length > 0 ? args : this.#liveIds()) this.#processReady(id);
    },
    'deliver-msgs': (args, named) => {
      const types = named.get('type')?.split(',');
      for (const id of args.length > 0 ? args : this.#liveIds()) this.#deliver(id, types);
    },
    'drop-msgs': (_args, named) => this.#dropMsgs(named),
    stabilize: (args) => this.#stabilize(args.length > 0 ? args : undefined),
    isolate: (args) => {
      this.#isolated.add(args[0]!);
    },
    heal: () => this.#isolated.clear(),
    crash: (args) => {
      this.#node(args[0]!).raw = null;
    },
    restart: (args) => this.#restart(args[0]!),
    compact: (args, named) => this.#compact(args[0]!, Number(named.get('bytes') ?? 10)),
    status: (args) => this.#status(args[0]!),
    'raft-log': (args) => this.#raftLog(args[0]!),
    'raft-state': () => this.#raftState(),
    'log-level': (args) => {
      this.#logging = args[0] !== 'none';
    },
  };

  #addNodes(count: number, named: Map<string, string>): void {
    const first = this.#nodes.size + 1;
    const ids = Array.from({ length: count }, (_, i) => String(first + i));
    const voters = named.has('voters') ? named.get('voters')!.split(',') : ids;
    const learners = named.has('learners') ? named.get('learners')!.split(',') : [];
    const joining = named.get('empty') === 'true';
    for (const id of ids) {
      const storage = joining ? new MemoryStorage() : MemoryStorage.bootstrap({ voters, learners });
      const num = (key: string): number | undefined => (named.has(key) ? Number(named.get(key)) : undefined);
      const config: RaftConfig = {
        groupId: 1,
        id,
        storage,
        random: LONGEST_TIMEOUT,
        electionTimeoutTicks: num('election') ?? 10,
        heartbeatTicks: num('heartbeat') ?? 1,
        preVote: named.get('prevote') !== 'false',
        checkQuorum: named.get('checkquorum') !== 'false',
        readOnly: (named.get('read-only') ?? 'safe') as ReadOnlyOption,
        maxMsgBytes: num('max-msg-bytes'),
        maxInflightMsgs: num('max-inflight'),
        snapshotChunkBytes: num('chunk-bytes'),
        maxInflightSnapshotChunks: num('inflight-chunks'),
        logger: (line) => this.#print(`INFO ${line}`),
      };
      const node: EnvNode = { id, storage, config, raw: null, applied: [], staging: [] };
      this.#nodes.set(id, node);
      this.#restart(id);
    }
  }

  /** Output that narrates (as opposed to answering a query); `log-level none` silences it. */
  #print(...lines: string[]): void {
    if (this.#logging) this.#out.push(...lines);
  }

  #restart(id: NodeId): void {
    const node = this.#node(id);
    node.raw = new RawNode(node.config);
    node.applied = [];
    node.staging = [];
  }

  #node(id: NodeId): EnvNode {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  #raw(id: NodeId): RawNode {
    const raw = this.#node(id).raw;
    if (raw === null) throw new Error(`node ${id} is down`);
    return raw;
  }

  #liveIds(): NodeId[] {
    return [...this.#nodes.values()].filter((n) => n.raw !== null).map((n) => n.id);
  }

  #tick(id: NodeId, count: number): void {
    for (let i = 0; i < count; i++) this.#raw(id).tick();
  }

  #processReady(id: NodeId): boolean {
    const raw = this.#raw(id);
    if (!raw.hasReady()) return false;
    const rd = raw.ready();
    this.#print(`> ${id} handling Ready`, ...describeReady(rd));
    this.#persistAndApply(this.#node(id), rd);
    raw.advance();
    return true;
  }

  /** What a runtime does with a Ready: stage, install, persist, send, apply. */
  #persistAndApply(node: EnvNode, rd: Ready): void {
    for (const chunk of rd.snapshotChunks) {
      if (chunk.offset === 0) node.staging = [];
      node.staging.push(chunk.data);
    }
    if (rd.snapshot !== null) {
      const data = new Uint8Array(rd.snapshot.sizeBytes);
      let offset = 0;
      for (const part of node.staging) {
        data.set(part, offset);
        offset += part.byteLength;
      }
      node.storage.applySnapshot(rd.snapshot, data);
      node.staging = [];
    }
    node.storage.append(rd.entries);
    if (rd.hardState !== null) node.storage.setHardState(rd.hardState);
    this.#inflight.push(...rd.messages);
    node.applied.push(...rd.committedEntries);
  }

  #deliver(id: NodeId, types: string[] | undefined): boolean {
    const mine = this.#inflight.filter((m) => m.to === id && (types === undefined || types.includes(m.type)));
    if (mine.length === 0) return false;
    this.#inflight = this.#inflight.filter((m) => !mine.includes(m));
    this.#print(`> ${id} receiving messages`);
    const node = this.#node(id);
    for (const m of mine) {
      if (node.raw === null || this.#isolated.has(m.from) || this.#isolated.has(m.to)) {
        this.#print(`  ${describeMessage(m)} DROPPED`);
        continue;
      }
      this.#print(`  ${describeMessage(m)}`);
      node.raw.step(m);
    }
    return true;
  }

  #dropMsgs(named: Map<string, string>): void {
    const from = named.get('from');
    const to = named.get('to');
    const type = named.get('type');
    const nth = named.has('nth') ? Number(named.get('nth')) : undefined;
    const matching = this.#inflight.filter(
      (m) =>
        (from === undefined || m.from === from) &&
        (to === undefined || m.to === to) &&
        (type === undefined || m.type === type),
    );
    const dropped = nth === undefined ? matching : matching.slice(nth - 1, nth);
    this.#inflight = this.#inflight.filter((m) => !dropped.includes(m));
    for (const m of dropped) this.#print(`dropped ${describeMessage(m)}`);
  }

  #stabilize(ids: NodeId[] | undefined): void {
    for (let round = 0; round < 1000; round++) {
      let progress = false;
      for (const id of ids ?? this.#liveIds())
        if (this.#node(id).raw !== null && this.#processReady(id)) progress = true;
      for (const id of ids ?? [...this.#nodes.keys()]) if (this.#deliver(id, undefined)) progress = true;
      if (!progress) return;
    }
    throw new Error('stabilize did not converge in 1000 rounds');
  }

  #compact(id: NodeId, sizeBytes: number): void {
    const node = this.#node(id);
    const raw = this.#raw(id);
    const index = raw.appliedIndex;
    const data = new TextEncoder().encode(`state@${index};`.padEnd(sizeBytes, '.').slice(0, sizeBytes));
    const meta = node.storage.createSnapshot(index, raw.status().confState, data);
    node.storage.compact(index);
    this.#out.push(
      `snapshot ${meta.term}/${meta.index} (${meta.sizeBytes} bytes); log now starts at ${node.storage.firstIndex()}`,
    );
  }

  #status(id: NodeId): void {
    const s = this.#raw(id).status();
    this.#out.push(
      `${s.id}: ${s.role} term=${s.term} leader=${s.leaderId ?? 'none'} commit=${s.commitIndex} ` +
        `applied=${s.appliedIndex} last=${s.lastIndex} voters=(${s.confState.voters.join(',')}) ` +
        `learners=(${s.confState.learners.join(',')})`,
    );
    if (s.progress !== null) {
      for (const [peer, p] of s.progress) {
        this.#out.push(
          `  ${peer}: match=${p.match} next=${p.next} ${p.state}${p.isLearner ? ' learner' : ''}`,
        );
      }
    }
  }

  #raftLog(id: NodeId): void {
    const storage = this.#node(id).storage;
    const snap = storage.snapshot();
    if (snap.index > 0) this.#out.push(`snapshot ${snap.term}/${snap.index}`);
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    if (last >= first) {
      for (const e of storage.entries(first, last + 1, Number.POSITIVE_INFINITY))
        this.#out.push(describeEntry(e));
    }
  }

  #raftState(): void {
    for (const node of this.#nodes.values()) {
      const raw = node.raw;
      if (raw === null) {
        this.#out.push(`${node.id}: down`);
        continue;
      }
      const s = raw.status();
      this.#out.push(`${s.id}: ${s.role} term=${s.term} commit=${s.commitIndex} applied=${s.appliedIndex}`);
    }
  }
}

/** Runs one scenario file; with REWRITE=1 writes the actual outputs back into it. */
export function runScenarioFile(
  path: string,
  check: (actual: string, expected: string, where: string) => void,
): void {
  const text = readFileSync(path, 'utf8');
  const { directives } = parseScenario(text);
  const env = new InteractionEnv();
  const outputs: string[] = [];
  for (const d of directives) {
    let actual: string;
    try {
      actual = env.run(d.command);
    } catch (e) {
      actual = `error: ${(e as Error).message}`;
    }
    outputs.push(actual);
    check(actual, d.expected, `${path}:${d.line}: ${d.command}`);
  }
  if (process.env['REWRITE'] === '1') writeFileSync(path, rewriteScenario(text, outputs));
}
