import { ByteReader, ByteWriter, CodecError } from '../lib/byte-codec.js';
import { error, type Reply } from '../resp/reply.js';
import { decodeReplyValue, encodeReplyValue } from '../resp/reply-codec.js';
import { decodeEnvelope } from './envelope.js';
import type { ApplyContext, StateMachine } from './machine.js';

/**
 * Wraps an application state machine with what every group needs on apply: the envelope
 * (leader time, made monotonic across leaders whose clocks disagree) and client sessions, so a
 * proposal retried after a lost reply or a failover is applied exactly once (Raft thesis §6.3).
 * All of it is replicated state and part of the snapshot.
 */

/** A session unused for this long (leader time) is forgotten with its stored results. */
export const SESSION_TTL_MS = 10 * 60 * 1000;
/** How often (in applied entries) expired sessions are swept. Deterministic: by index. */
const SWEEP_EVERY_ENTRIES = 1024;
const SNAPSHOT_VERSION = 1;
const MAX_SESSION_BYTES = 128;

interface Session {
  ackedBelow: number;
  lastUsedMs: number;
  /** Results of sequence numbers ≥ ackedBelow, for retries. */
  readonly results: Map<number, Reply>;
}

export class SessionMachine {
  readonly #inner: StateMachine;
  readonly #sessions = new Map<string, Session>();
  #timeMs = 0;
  #duplicates = 0;

  constructor(inner: StateMachine) {
    this.#inner = inner;
  }

  /** The leader time of the last applied entry (monotonic). */
  get timeMs(): number {
    return this.#timeMs;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Retries answered from a stored result since start (not replicated; for INFO). */
  get duplicates(): number {
    return this.#duplicates;
  }

  /** Applies a normal entry. The empty no-op of a new leader applies nothing (undefined). */
  apply(data: Uint8Array, groupId: number, index: number, term: number): Reply | undefined {
    if (data.byteLength === 0) return undefined;
    let envelope: ReturnType<typeof decodeEnvelope>;
    try {
      envelope = decodeEnvelope(data);
    } catch (e) {
      // Every replica fails alike on the same bytes, so answering with an error stays deterministic.
      return error(`ERR undecodable entry ${index}: ${(e as Error).message}`);
    }
    this.#timeMs = Math.max(this.#timeMs, envelope.timeMs);
    if (index % SWEEP_EVERY_ENTRIES === 0) this.#sweep();
    const ctx: ApplyContext = { groupId, index, term, timeMs: this.#timeMs };
    if (envelope.session === '') return this.#inner.apply(envelope.payload, ctx);

    let session = this.#sessions.get(envelope.session);
    if (session === undefined) {
      session = { ackedBelow: 0, lastUsedMs: this.#timeMs, results: new Map() };
      this.#sessions.set(envelope.session, session);
    }
    session.lastUsedMs = this.#timeMs;
    if (envelope.ackedBelow > session.ackedBelow) {
      session.ackedBelow = envelope.ackedBelow;
      for (const seq of session.results.keys()) if (seq < session.ackedBelow) session.results.delete(seq);
    }
    const stored = session.results.get(envelope.seq);
    if (stored !== undefined) {
      this.#duplicates++;
      return stored;
    }
    if (envelope.seq < session.ackedBelow) {
      // Its first copy was applied and answered; nobody waits for this one.
      this.#duplicates++;
      return error('ERR duplicate of a request already answered');
    }
    const reply = this.#inner.apply(envelope.payload, ctx);
    session.results.set(envelope.seq, reply);
    return reply;
  }

  #sweep(): void {
    for (const [id, s] of this.#sessions) {
      if (this.#timeMs - s.lastUsedMs > SESSION_TTL_MS) this.#sessions.delete(id);
    }
  }

  snapshot(): Uint8Array {
    const inner = this.#inner.snapshot();
    const w = new ByteWriter(64 + inner.byteLength);
    w.byte(SNAPSHOT_VERSION);
    w.varint(this.#timeMs);
    const ids = [...this.#sessions.keys()].sort();
    w.varint(ids.length);
    for (const id of ids) {
      const s = this.#sessions.get(id)!;
      w.string(id, MAX_SESSION_BYTES, 'session');
      w.varint(s.ackedBelow);
      w.varint(s.lastUsedMs);
      const seqs = [...s.results.keys()].sort((a, b) => a - b);
      w.varint(seqs.length);
      for (const seq of seqs) {
        w.varint(seq);
        w.bytes(encodeReplyValue(s.results.get(seq)!));
      }
    }
    w.bytes(inner);
    return w.finish();
  }

  restore(data: Uint8Array): void {
    this.#sessions.clear();
    this.#timeMs = 0;
    if (data.byteLength === 0) {
      this.#inner.restore(data);
      return;
    }
    const r = new ByteReader(data);
    const version = r.byte();
    if (version !== SNAPSHOT_VERSION) throw new CodecError(`unknown snapshot version ${version}`);
    this.#timeMs = r.varint();
    const count = r.count(3);
    for (let i = 0; i < count; i++) {
      const id = r.string(MAX_SESSION_BYTES, 'session');
      const ackedBelow = r.varint();
      const lastUsedMs = r.varint();
      const results = new Map<number, Reply>();
      const n = r.count(2);
      for (let j = 0; j < n; j++) results.set(r.varint(), decodeReplyValue(r.bytes()));
      this.#sessions.set(id, { ackedBelow, lastUsedMs, results });
    }
    const inner = r.bytes();
    r.expectEnd();
    this.#inner.restore(inner);
  }
}
