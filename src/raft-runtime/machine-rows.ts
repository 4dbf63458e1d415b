import type Database from 'better-sqlite3';
import { assert } from '../lib/assert.js';

/** Where a durable state machine's stored state stands: the entry it reflects. */
export interface AppliedRow {
  readonly index: number;
  /** The leader time of that entry (sessions keep leader time monotonic across restarts). */
  readonly timeMs: number;
}

/**
 * The rows of `raft.sqlite` that every durable state machine shares (`machine_applied`,
 * `machine_sessions`): its applied index and its client sessions, written by the replica in the
 * same transaction as the machine's own tables. The machine's tables are its own business.
 */
export class MachineRows {
  readonly #selectApplied: Database.Statement<[number], { applied_index: number; time_ms: number }>;
  readonly #upsertApplied: Database.Statement<[number, number, number]>;
  readonly #selectSessions: Database.Statement<[number], [string, Buffer]>;
  readonly #upsertSession: Database.Statement<[number, string, Uint8Array]>;
  readonly #deleteSession: Database.Statement<[number, string]>;
  readonly #deleteSessions: Database.Statement<[number]>;
  readonly #inBatch: () => boolean;

  constructor(sqlite: Database.Database, inBatch: () => boolean) {
    this.#inBatch = inBatch;
    this.#selectApplied = sqlite.prepare(
      'SELECT applied_index, time_ms FROM machine_applied WHERE group_id = ?',
    );
    this.#upsertApplied = sqlite.prepare(
      `INSERT INTO machine_applied VALUES (?, ?, ?)
       ON CONFLICT (group_id) DO UPDATE SET applied_index = excluded.applied_index, time_ms = excluded.time_ms`,
    );
    this.#selectSessions = sqlite
      .prepare<[number], [string, Buffer]>(
        'SELECT session, data FROM machine_sessions WHERE group_id = ? ORDER BY session',
      )
      .raw();
    this.#upsertSession = sqlite.prepare(
      `INSERT INTO machine_sessions VALUES (?, ?, ?)
       ON CONFLICT (group_id, session) DO UPDATE SET data = excluded.data`,
    );
    this.#deleteSession = sqlite.prepare('DELETE FROM machine_sessions WHERE group_id = ? AND session = ?');
    this.#deleteSessions = sqlite.prepare('DELETE FROM machine_sessions WHERE group_id = ?');
  }

  applied(groupId: number): AppliedRow | undefined {
    const row = this.#selectApplied.get(groupId);
    return row === undefined ? undefined : { index: row.applied_index, timeMs: row.time_ms };
  }

  sessions(groupId: number): [string, Uint8Array][] {
    return this.#selectSessions.all(groupId);
  }

  /**
   * Records the applied index and the sessions that changed (null: forgotten), in a batch. With
   * `replace`, `sessions` is every session and the stored ones are dropped first.
   */
  write(
    groupId: number,
    applied: AppliedRow,
    sessions: ReadonlyMap<string, Uint8Array | null>,
    replace: boolean,
  ): void {
    assert(this.#inBatch(), `group ${groupId}: machine rows written outside db.batch`);
    if (replace) this.#deleteSessions.run(groupId);
    for (const [id, data] of sessions) {
      if (data === null) this.#deleteSession.run(groupId, id);
      else this.#upsertSession.run(groupId, id, data);
    }
    this.#upsertApplied.run(groupId, applied.index, applied.timeMs);
  }
}
