import { ArgReader } from '../commands/args.js';
import { errors } from '../lib/errors.js';
import type { Dispatcher } from '../server/dispatcher.js';
import type { InfoRegistry } from '../server/info.js';
import { MAX_MAX_DELIVERIES, MAX_MAX_LEN, MAX_POP_COUNT, MAX_QUEUE_MS } from './commands.js';
import type { QueueService } from './service.js';
import type { QueueTotals, TopQueue } from './types.js';

/** Q.DEAD without COUNT. */
const DEFAULT_DEAD_COUNT = 10;

/** Q.* and the `queues` INFO section. */
export function registerQueueCommands(
  dispatcher: Dispatcher,
  info: InfoRegistry,
  service: QueueService,
  /** Totals and deepest queues of the partitions this node leads (each counted once cluster-wide). */
  ledTotals: () => { totals: QueueTotals; top: TopQueue[] },
): void {
  dispatcher.register('q.push', (_ctx, args) => {
    const queue = String(args[1]);
    // Options trail the payloads: taken from the end, so a payload may be spelled like a keyword
    // unless it is the second-to-last argument.
    let end = args.length;
    let dedupKey: string | undefined;
    let delayMs = 0;
    while (end - 2 >= 3) {
      const keyword = String(args[end - 2]).toUpperCase();
      if (keyword === 'DEDUP' && dedupKey === undefined) dedupKey = String(args[end - 1]);
      else if (keyword === 'DELAY') delayMs = new ArgReader(args, end - 1).nextInt(0, MAX_QUEUE_MS);
      else break;
      end -= 2;
    }
    return service.push({ queue, payloads: args.slice(2, end), dedupKey, delayMs });
  });

  dispatcher.register('q.pop', (ctx, args) => {
    const r = new ArgReader(args);
    const queue = r.next();
    let count: number | undefined;
    let blockMs: number | undefined;
    let visibilityMs: number | undefined;
    while (r.hasMore()) {
      if (r.acceptKeyword('COUNT')) count = r.nextInt(1, MAX_POP_COUNT);
      else if (r.acceptKeyword('BLOCK')) blockMs = r.nextInt(0, MAX_QUEUE_MS);
      else if (r.acceptKeyword('VISIBILITY')) visibilityMs = r.nextInt(1, MAX_QUEUE_MS);
      else throw errors.syntax();
    }
    return service.pop(ctx.session, { queue, count, blockMs, visibilityMs });
  });

  dispatcher.register('q.ack', (_ctx, args) => service.ack(String(args[1]), args.slice(2).map(String)));

  dispatcher.register('q.nack', (_ctx, args) => {
    const r = new ArgReader(args);
    const queue = r.next();
    const id = r.next();
    let delayMs = 0;
    while (r.hasMore()) {
      if (r.acceptKeyword('DELAY')) delayMs = r.nextInt(0, MAX_QUEUE_MS);
      else throw errors.syntax();
    }
    return service.nack(queue, id, delayMs);
  });

  dispatcher.register('q.extend', (_ctx, args) => {
    const r = new ArgReader(args);
    const queue = r.next();
    const id = r.next();
    return service.extend(queue, id, r.nextInt(0, MAX_QUEUE_MS));
  });

  dispatcher.register('q.redrive', (_ctx, args) => {
    const r = new ArgReader(args);
    const queue = r.next();
    let count = MAX_POP_COUNT;
    let drop = false;
    while (r.hasMore()) {
      if (r.acceptKeyword('COUNT')) count = r.nextInt(1, MAX_POP_COUNT);
      else if (r.acceptKeyword('DELETE')) drop = true;
      else throw errors.syntax();
    }
    return service.redrive(queue, count, drop);
  });

  dispatcher.register('q.len', (_ctx, args) => service.query({ op: 'len', queue: String(args[1]) }));
  dispatcher.register('q.stats', (_ctx, args) => service.query({ op: 'stats', queue: String(args[1]) }));

  for (const [name, op, defaultCount] of [
    ['q.peek', 'peek', 1],
    ['q.dead', 'dead', DEFAULT_DEAD_COUNT],
  ] as const) {
    dispatcher.register(name, (_ctx, args) => {
      const r = new ArgReader(args);
      const queue = r.next();
      let count: number = defaultCount;
      while (r.hasMore()) {
        if (r.acceptKeyword('COUNT')) count = r.nextInt(1, MAX_POP_COUNT);
        else throw errors.syntax();
      }
      return service.query({ op, queue, count });
    });
  }

  dispatcher.register('q.config', (_ctx, args) => {
    const r = new ArgReader(args);
    const queue = r.next();
    const change: { maxDeliveries?: number; visibilityMs?: number; maxLen?: number } = {};
    while (r.hasMore()) {
      if (r.acceptKeyword('MAXDELIVERIES')) change.maxDeliveries = r.nextInt(0, MAX_MAX_DELIVERIES);
      else if (r.acceptKeyword('VISIBILITY')) change.visibilityMs = r.nextInt(1, MAX_QUEUE_MS);
      else if (r.acceptKeyword('MAXLEN')) change.maxLen = r.nextInt(0, MAX_MAX_LEN);
      else throw errors.syntax();
    }
    return service.config(queue, change);
  });

  info.add('queues', 'Queues', () => {
    const { totals, top } = ledTotals();
    const s = service.stats;
    return [
      ['queues_led_here', totals.queues],
      ['queue_messages_ready', totals.ready],
      ['queue_messages_inflight', totals.inflight],
      ['queue_messages_delayed', totals.delayed],
      ['queue_messages_dead', totals.dead],
      ['queue_pushed_total', totals.pushed],
      ['queue_acked_total', totals.acked],
      ['queue_redelivered_total', totals.redelivered],
      ['queue_dead_lettered_total', totals.deadLettered],
      ['queue_deepest', top.map((q) => `${q.queue}=${q.depth}`).join(',')],
      ['queue_push_calls_here', s.pushes],
      ['queue_pop_calls_here', s.pops],
      ['queue_ack_calls_here', s.acks],
      ['queue_blocked_clients_here', s.blockedClients],
      ['queue_ticks_proposed_here', s.ticksProposed],
    ];
  });
}
