import { ArgReader } from '../commands/args.js';
import { errors } from '../lib/errors.js';
import { array, bulk, int, map, NULL, type Reply } from '../resp/reply.js';
import type { Dispatcher } from '../server/dispatcher.js';
import type { InfoRegistry } from '../server/info.js';
import type { Session } from '../server/session.js';
import { LOCK_LIMITS, type LockMode } from './commands.js';
import type { LockService } from './service.js';
import type { LockTable } from './state-machine.js';
import { COUNTER_NAMES } from './types.js';

const MAX_TTL_MS = LOCK_LIMITS.maxTtlMs;
const MAX_WAIT_MS = LOCK_LIMITS.maxWaitMs;

/** LOCK.ACQUIRE/RELEASE/RENEW/STATUS/LIST and the `locks` INFO section. */
export function registerLockCommands(
  dispatcher: Dispatcher,
  info: InfoRegistry,
  service: LockService,
  table: () => LockTable | undefined,
  defaultTtlMs: number,
): void {
  dispatcher.register('lock.acquire', (ctx, args) => {
    const r = new ArgReader(args);
    const name = r.next();
    let mode: LockMode = 'exclusive';
    let owner: string | undefined;
    let ttlMs = defaultTtlMs;
    let waitMs = 0;
    while (r.hasMore()) {
      if (r.acceptKeyword('SHARED')) mode = 'shared';
      else if (r.acceptKeyword('EXCLUSIVE')) mode = 'exclusive';
      else if (r.acceptKeyword('OWNER')) owner = r.next();
      else if (r.acceptKeyword('TTL')) ttlMs = r.nextInt(1, MAX_TTL_MS);
      else if (r.acceptKeyword('WAIT')) waitMs = r.nextInt(0, MAX_WAIT_MS);
      else throw errors.syntax();
    }
    return service.acquire(ctx.session, {
      name,
      mode,
      owner: owner ?? service.defaultOwner(ctx.session),
      ttlMs,
      waitMs,
    });
  });

  dispatcher.register('lock.release', (ctx, args) => {
    const r = new ArgReader(args);
    const name = r.next();
    const { owner, token } = ownerAndToken(r, ctx.session, service);
    return service.release(name, owner, token);
  });

  dispatcher.register('lock.renew', (ctx, args) => {
    const r = new ArgReader(args);
    const name = r.next();
    let owner = service.defaultOwner(ctx.session);
    let ttlMs: number | undefined;
    while (r.hasMore()) {
      if (r.acceptKeyword('OWNER')) owner = r.next();
      else if (r.acceptKeyword('TTL')) ttlMs = r.nextInt(1, MAX_TTL_MS);
      else throw errors.syntax();
    }
    if (ttlMs === undefined) throw errors.syntax();
    return service.renew(name, owner, ttlMs);
  });

  dispatcher.register('lock.status', async (_ctx, args) => {
    const result = await service.status(String(args[1]));
    if ('t' in result) return result;
    const { status, nowMs } = result;
    if (status === undefined) return NULL;
    return map({
      mode: bulk(status.mode),
      holders: array(
        status.holders.map((h) =>
          map({
            owner: bulk(h.owner),
            token: int(h.token),
            'ttl-ms': int(Math.max(0, h.expiresAtMs - nowMs)),
          }),
        ),
      ),
      waiters: array(
        status.waiters.map((w) =>
          map({
            owner: bulk(w.owner),
            mode: bulk(w.mode),
            'wait-ms': int(Math.max(0, w.deadlineMs - nowMs)),
          }),
        ),
      ),
      contended: int(status.contended),
    });
  });

  dispatcher.register('lock.list', async (_ctx, args) => {
    const r = new ArgReader(args);
    let pattern: string | undefined;
    let count: number | undefined;
    while (r.hasMore()) {
      if (r.acceptKeyword('MATCH')) pattern = r.next();
      else if (r.acceptKeyword('COUNT')) count = r.nextInt(1, Number.MAX_SAFE_INTEGER);
      else throw errors.syntax();
    }
    const names = await service.list(pattern, count);
    if (!Array.isArray(names)) return names as Reply;
    return array(names.map((n) => bulk(n)));
  });

  info.add('locks', 'Locks', () => {
    const t = table();
    const fields: [string, string | number][] = [];
    if (t !== undefined) {
      fields.push(['locks_live', t.size]);
      const counters = t.counters();
      for (const name of COUNTER_NAMES) fields.push([`locks_${snake(name)}`, counters[name]]);
      const top = t.topContended(5);
      fields.push(['locks_top_contended', top.map((c) => `${c.name}=${c.contended}`).join(',')]);
    }
    fields.push(['locks_waiting_clients_here', service.stats.waitingClients]);
    fields.push(['locks_ticks_proposed_here', service.stats.ticksProposed]);
    return fields;
  });
}

function ownerAndToken(
  r: ArgReader,
  session: Session,
  service: LockService,
): { owner: string; token: number | undefined } {
  let owner = service.defaultOwner(session);
  let token: number | undefined;
  while (r.hasMore()) {
    if (r.acceptKeyword('OWNER')) owner = r.next();
    else if (r.acceptKeyword('TOKEN')) token = r.nextInt(1, Number.MAX_SAFE_INTEGER);
    else throw errors.syntax();
  }
  return { owner, token };
}

function snake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}
