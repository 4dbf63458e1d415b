import { ReplyError } from '../lib/errors.js';
import { array, bulk, double, int, map, NULL, OK, type Reply } from '../resp/reply.js';
import type { Dispatcher } from '../server/dispatcher.js';
import type { InfoRegistry } from '../server/info.js';
import { cacheFigures } from './figures.js';
import type { Stored } from './protocol.js';
import type { CacheService } from './service.js';

/** CACHE.SET/GET/DEL/STATE/STATS and the `cache` INFO section. */
export function registerCacheCommands(
  dispatcher: Dispatcher,
  info: InfoRegistry,
  service: CacheService,
): void {
  dispatcher.register('cache.set', async (_ctx, args) => {
    checkEntry(service, args[1]!, args[2]!);
    await service.set(args[1]!.toString(), ownCopy(args[2]!));
    return OK;
  });

  dispatcher.register('cache.del', async (_ctx, args) => {
    checkEntry(service, args[1]!);
    await service.set(args[1]!.toString(), null);
    return OK;
  });

  dispatcher.register('cache.get', (_ctx, args) => {
    checkEntry(service, args[1]!);
    // toString(), not String(): String() first looks up Symbol.toPrimitive along the prototype chain.
    const value = service.get(args[1]!.toString());
    return value instanceof Promise ? value.then(storedReply) : storedReply(value);
  });

  dispatcher.register('cache.state', (_ctx, args) => {
    const view = service.state(args[1]!.toString());
    const fields: Record<string, Reply> = {
      state: bulk(view.state),
      value: storedReply(view.value),
      home: bulk(view.home),
      protocol: bulk(service.protocol),
    };
    if (view.entry !== undefined) {
      const e = view.entry;
      fields.directory = map({
        state: bulk(e.state),
        owner: e.owner === null ? NULL : bulk(e.owner),
        sharers: array(e.sharers.map((id) => bulk(id))),
        memory: storedReply(e.memory),
        busy: int(e.busy === null ? 0 : 1),
        queued: int(e.queue.length),
      });
    }
    return map(fields);
  });

  dispatcher.register('cache.stats', () => {
    const fields: Record<string, Reply> = {};
    for (const [name, value] of cacheFigures(service)) {
      fields[name] =
        typeof value === 'string' ? bulk(value) : Number.isInteger(value) ? int(value) : double(value);
    }
    return map(fields);
  });

  info.add('cache', 'Cache', () => cacheFigures(service).map(([name, value]) => [`cache_${name}`, value]));
}

/** Refuses, before any coherence message, a key (and value) no line could hold or carry. */
function checkEntry(service: CacheService, key: Buffer, value?: Buffer): void {
  const bytes = key.length + (value?.length ?? 0);
  const limit = service.maxEntryBytes;
  if (bytes > limit) {
    throw new ReplyError(
      'LIMIT',
      `key and value of ${bytes} bytes exceed the ${limit} bytes one cache entry may hold (cache-max-bytes, cache-home-max-bytes, 8 MiB at most); nothing was stored`,
    );
  }
}

function storedReply(value: Stored): Reply {
  return value === null ? NULL : bulk(value);
}

/**
 * An argument is a view of the socket's read chunk (and a small copy would be a slice of Node's
 * shared 8 KB pool): either would keep a whole chunk alive for as long as the line lives, beyond
 * what cache-max-bytes counts. A line's value gets memory of its own.
 */
function ownCopy(arg: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(arg.length);
  arg.copy(copy);
  return copy;
}
