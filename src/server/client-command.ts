import { ArgReader } from '../commands/args.js';
import { errors } from '../lib/errors.js';
import { array, bulk, error, int, NULL, OK, type Reply, simple, verbatim } from '../resp/reply.js';
import type { Connection } from './connection.js';
import { validateClientName } from './connection-commands.js';
import type { Dispatcher } from './dispatcher.js';
import type { RespServer } from './listener.js';

/** CLIENT ID|SETNAME|GETNAME|INFO|LIST|SETINFO|KILL|HELP. */
export function registerClientCommand(dispatcher: Dispatcher, server: RespServer): void {
  dispatcher.register('client|id', (ctx) => int(ctx.session.id));

  dispatcher.register('client|setname', (ctx, args) => {
    ctx.session.name = validateClientName(String(args[2]));
    return OK;
  });

  dispatcher.register('client|getname', (ctx) => (ctx.session.name === null ? NULL : bulk(ctx.session.name)));

  dispatcher.register('client|info', (ctx) => {
    const connection = server.connections.get(ctx.session.id);
    return verbatim(connection ? `${describe(connection)}\n` : '');
  });

  dispatcher.register('client|list', (_ctx, args) => {
    const reader = new ArgReader(args, 2);
    let ids: Set<number> | null = null;
    if (reader.hasMore()) {
      if (!reader.acceptKeyword('ID') || !reader.hasMore()) return error(errors.syntax().toWire());
      ids = new Set();
      while (reader.hasMore()) ids.add(reader.nextInt(1));
    }
    let text = '';
    for (const connection of server.connections.values()) {
      if (ids === null || ids.has(connection.session.id)) text += `${describe(connection)}\n`;
    }
    return verbatim(text);
  });

  dispatcher.register('client|setinfo', (ctx, args) => {
    const attribute = String(args[2]).toUpperCase();
    const value = String(args[3]);
    if (/[^!-~]/.test(value)) {
      return error(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
    }
    if (attribute === 'LIB-NAME') ctx.session.libName = value;
    else if (attribute === 'LIB-VER') ctx.session.libVersion = value;
    else return error(`ERR Unrecognized option '${String(args[2])}'`);
    return OK;
  });

  dispatcher.register('client|kill', (ctx, args) => kill(server, ctx.session.id, args));

  dispatcher.register('client|help', () =>
    array(
      [
        'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
        'ID -- Return the ID of the current connection.',
        'SETNAME <name> -- Name the connection (also the default lock owner).',
        'GETNAME -- Return the name of the current connection.',
        'INFO -- Information about the current connection.',
        'LIST [ID <id> ...] -- List the connections of this node.',
        'SETINFO <LIB-NAME|LIB-VER> <value> -- Record the client library.',
        'KILL <ip:port> | KILL [ID <id>] [ADDR <ip:port>] [USER <name>] [SKIPME yes|no] -- Close connections.',
      ].map(simple),
    ),
  );
}

function kill(server: RespServer, selfId: number, args: Buffer[]): Reply {
  if (args.length === 3) {
    const address = String(args[2]);
    for (const connection of server.connections.values()) {
      if (connection.session.remoteAddress === address) {
        connection.close();
        return OK;
      }
    }
    return error('ERR No such client');
  }
  const reader = new ArgReader(args, 2);
  let id: number | null = null;
  let address: string | null = null;
  let user: string | null = null;
  let skipMe = true;
  while (reader.hasMore()) {
    if (reader.remaining < 2) return error(errors.syntax().toWire());
    const option = reader.next().toUpperCase();
    if (option === 'ID') id = reader.nextInt(1);
    else if (option === 'ADDR') address = reader.next();
    else if (option === 'USER') user = reader.next();
    else if (option === 'SKIPME') {
      const value = reader.next().toLowerCase();
      if (value !== 'yes' && value !== 'no') return error(errors.syntax().toWire());
      skipMe = value === 'yes';
    } else return error(errors.syntax().toWire());
  }
  const victims: Connection[] = [];
  for (const connection of server.connections.values()) {
    const session = connection.session;
    if (id !== null && session.id !== id) continue;
    if (address !== null && session.remoteAddress !== address) continue;
    if (user !== null && session.user?.name !== user) continue;
    if (skipMe && session.id === selfId) continue;
    victims.push(connection);
  }
  for (const connection of victims) connection.close();
  return int(victims.length);
}

/** One CLIENT LIST line, with the Redis fields that mean something here. */
function describe(connection: Connection): string {
  const s = connection.session;
  const nowMs = Date.now();
  return [
    `id=${s.id}`,
    `addr=${s.remoteAddress}`,
    `laddr=${s.localAddress}`,
    `name=${s.name ?? ''}`,
    `age=${Math.floor((nowMs - s.createdAtMs) / 1000)}`,
    `idle=${Math.floor((nowMs - s.lastActiveAtMs) / 1000)}`,
    'flags=N',
    'db=0',
    `omem=${connection.outputBytes}`,
    `cmd=${s.lastCommand}`,
    `user=${s.user?.name ?? ''}`,
    `lib-name=${s.libName}`,
    `lib-ver=${s.libVersion}`,
    `resp=${s.protocol}`,
  ].join(' ');
}
