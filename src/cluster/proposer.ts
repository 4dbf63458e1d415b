import { randomBytes } from 'node:crypto';
import { ReplyError } from '../lib/errors.js';
import { encodeEnvelope } from '../raft-runtime/envelope.js';
import { APPENDED_BUT_UNKNOWN, RaftUnavailable } from '../raft-runtime/group.js';
import type { RaftHost } from '../raft-runtime/host.js';
import { error, OK, type Reply } from '../resp/reply.js';
import { type Forwarder, ForwardFailed } from './forwarder.js';

export interface ProposerOptions {
  readonly host: RaftHost;
  readonly forwarder: Forwarder;
  /** Nodes that hold a replica of the group, to ask when no leader is known here. */
  readonly replicasOf: (groupId: number) => readonly string[];
  readonly requestTimeoutMs: () => number;
  /** One forward attempt waits at most this long before retrying (the leader may be gone). */
  readonly attemptTimeoutMs: number;
  readonly now: () => number;
}

/** Pause between attempts while no leader is reachable: short, elections take ~1.3 timeouts. */
const RETRY_PAUSE_MS = 10;

/**
 * Gets a command applied by a group, from any node: proposes it here when this node leads the
 * group, and otherwise forwards it to the leader over the bus, following redirects and retrying
 * across failovers until `request-timeout-ms`. Every command gets a (session, sequence) pair
 * once, reused by every retry, so it applies exactly once however often it is sent.
 */
export class Proposer {
  /** This process's session: node id and a random incarnation. */
  readonly session: string;
  readonly #o: ProposerOptions;
  #seq = 0;
  readonly #outstanding = new Set<number>();
  /** Last leader learned from a redirect, per group. */
  readonly #hints = new Map<number, string>();
  #retries = 0;

  constructor(options: ProposerOptions) {
    this.#o = options;
    this.session = `${options.host.nodeId}.${randomBytes(6).toString('hex')}`;
  }

  get retries(): number {
    return this.#retries;
  }

  async propose(groupId: number, payload: Uint8Array): Promise<Reply> {
    const seq = ++this.#seq;
    this.#outstanding.add(seq);
    const deadline = this.#o.now() + this.#o.requestTimeoutMs();
    let attempt = 0;
    let lastError = '';
    // Whether some attempt may have been applied: then the answer is TRYAGAIN (outcome unknown),
    // otherwise NOQUORUM (certainly not applied: nothing ever reached a leader).
    let maybeApplied = false;
    try {
      while (this.#o.now() < deadline) {
        if (attempt++ > 0) {
          this.#retries++;
          await sleep(RETRY_PAUSE_MS);
        }
        const target = this.#target(groupId, attempt);
        if (target === undefined) {
          lastError = 'no leader known';
          continue;
        }
        const ackedBelow = this.#ackedBelow();
        if (target === this.#o.host.nodeId) {
          const envelope = encodeEnvelope({
            timeMs: this.#o.now(),
            session: this.session,
            seq,
            ackedBelow,
            payload,
          });
          try {
            return (await this.#o.host.propose(groupId, envelope)) ?? OK;
          } catch (e) {
            if (!(e instanceof RaftUnavailable)) throw e;
            lastError = e.message;
            if (APPENDED_BUT_UNKNOWN.has(e.reason)) maybeApplied = true;
            this.#learn(groupId, e.leaderId);
            continue;
          }
        }
        const timeoutMs = Math.min(this.#o.attemptTimeoutMs, Math.max(1, deadline - this.#o.now()));
        try {
          const reply = await this.#o.forwarder.request(
            target,
            { kind: 'propose', group: groupId, session: this.session, seq, ackedBelow, payload },
            timeoutMs,
          );
          if (reply.kind === 'done') return reply.reply ?? OK;
          // The leader appended the entry, then lost leadership: it may still commit.
          if (reply.appended === true) maybeApplied = true;
          lastError =
            reply.appended === true
              ? `${target} lost leadership after appending it`
              : `${target} is not the leader`;
          this.#learn(groupId, reply.leaderId === target ? null : reply.leaderId);
        } catch (e) {
          if (!(e instanceof ForwardFailed)) throw e;
          lastError = e.message;
          if (e.maybeDelivered) maybeApplied = true;
          this.#hints.delete(groupId);
        }
      }
    } finally {
      this.#outstanding.delete(seq);
    }
    if (!maybeApplied) {
      return error(
        new ReplyError(
          'NOQUORUM',
          `group ${groupId} has no reachable leader within ${this.#o.requestTimeoutMs()} ms; nothing was applied (${lastError})`,
        ).toWire(),
      );
    }
    return error(
      new ReplyError(
        'TRYAGAIN',
        `group ${groupId} did not confirm the request in time; it may or may not have been applied (${lastError})`,
      ).toWire(),
    );
  }

  /** Where to send the next attempt: a known leader, else a replica (rotating), else nothing. */
  #target(groupId: number, attempt: number): string | undefined {
    const local = this.#o.host.group(groupId);
    if (local?.isLeader) return this.#o.host.nodeId;
    const hint = this.#hints.get(groupId);
    if (hint !== undefined) return hint;
    const leader = local?.raw.leaderId;
    if (leader !== null && leader !== undefined) return leader;
    const replicas = this.#o.replicasOf(groupId).filter((id) => id !== this.#o.host.nodeId);
    if (replicas.length === 0) return undefined;
    return replicas[attempt % replicas.length];
  }

  #learn(groupId: number, leaderId: string | null): void {
    if (leaderId === null || leaderId === '') this.#hints.delete(groupId);
    else this.#hints.set(groupId, leaderId);
  }

  #ackedBelow(): number {
    let min = this.#seq + 1;
    for (const s of this.#outstanding) if (s < min) min = s;
    return min;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
