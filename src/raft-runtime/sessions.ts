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
  /** Sessions changed since `takeChangedSessions`, when the group stores them as rows. */
  #changed: Set<string> | null = null;

  constructor(inner: StateMachine) {
    this.#inner = inner;
  }

  /** The machine it wraps. */
  get inner(): StateMachine {
    return this.#inner;
  }

  /** From now on, remember which sessions change (a durable group writes them as rows). */
  trackChanges(): void {
    this.#changed ??= new Set();
  }

  /**
   * Every session changed since the last call, encoded, or null where it was forgotten; with
   * `all`, every session there is (to replace the stored rows wholesale).
   */
  takeChangedSessions(all = false): Map<string, Uint8Array | null> {
    const out = new Map<string, Uint8Array | null>();
    if (this.#changed === null) return out;
    for (const id of all ? this.#sessions.keys() : this.#changed) {
      const session = this.#sessions.get(id);
      out.set(id, session === undefined ? null : encodeSession(session));
    }
    this.#changed.clear();
    return out;
  }

  /** Replaces time and sessions with stored ones; the inner machine loads its own rows. */
  loadSessions(timeMs: number, rows: Iterable<readonly [string, Uint8Array]>): void {
    this.#sessions.clear();
    this.#changed?.clear();
    this.#timeMs = timeMs;
    for (const [id, data] of rows) this.#sessions.set(id, decodeSession(data));
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
    this.#changed?.add(envelope.session);
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
      if (this.#timeMs - s.lastUsedMs > SESSION_TTL_MS) {
        this.#sessions.delete(id);
        this.#changed?.add(id);
      }
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
      writeSession(w, s);
    }
    w.bytes(inner);
    return w.finish();
  }

  restore(data: Uint8Array): void {
    // Every stored session row is replaced: a durable group rewrites them all.
    for (const id of this.#sessions.keys()) this.#changed?.add(id);
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
      this.#sessions.set(id, readSession(r));
      this.#changed?.add(id);
    }
    const inner = r.bytes();
    r.expectEnd();
    this.#inner.restore(inner);
  }
}

function writeSession(w: ByteWriter, s: Session): void {
  w.varint(s.ackedBelow);
  w.varint(s.lastUsedMs);
  const seqs = [...s.results.keys()].sort((a, b) => a - b);
  w.varint(seqs.length);
  for (const seq of seqs) {
    w.varint(seq);
    w.bytes(encodeReplyValue(s.results.get(seq)!));
  }
}

function readSession(r: ByteReader): Session {
  const ackedBelow = r.varint();
  const lastUsedMs = r.varint();
  const results = new Map<number, Reply>();
  const n = r.count(2);
  for (let j = 0; j < n; j++) results.set(r.varint(), decodeReplyValue(r.bytes()));
  return { ackedBelow, lastUsedMs, results };
}

function encodeSession(s: Session): Uint8Array {
  const w = new ByteWriter(32);
  writeSession(w, s);
  return w.finish();
}

function decodeSession(data: Uint8Array): Session {
  const r = new ByteReader(data);
  const session = readSession(r);
  r.expectEnd();
  return session;
}
