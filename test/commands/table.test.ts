import t from 'tap';
import { commandDocs, usage } from '../../src/commands/introspection.js';
import { COMMANDS, commandTable } from '../../src/commands/table.js';

t.test('every command is lower case, unique and has a summary', (t) => {
  const seen = new Set<string>();
  for (const spec of commandTable.all()) {
    t.equal(spec.name, spec.name.toLowerCase(), spec.name);
    t.notOk(seen.has(spec.name), `${spec.name} declared once`);
    seen.add(spec.name);
    t.ok(spec.summary.length > 10, `${spec.name} has a summary`);
    t.ok(spec.categories.length > 0, `${spec.name} has ACL categories`);
    t.not(spec.arity, 0, `${spec.name} arity is not 0`);
  }
  t.end();
});

t.test('subcommands are named parent|sub and counted in the parent arity', (t) => {
  for (const spec of COMMANDS) {
    for (const sub of spec.subcommands ?? []) {
      t.ok(sub.name.startsWith(`${spec.name}|`), sub.name);
      t.ok(Math.abs(sub.arity) >= 2, `${sub.name} counts command and subcommand`);
    }
  }
  t.end();
});

t.test('usage renders like redis-cli hints', (t) => {
  t.equal(usage(commandTable.get('ping')!), 'PING [message]');
  t.equal(
    usage(commandTable.get('hello')!),
    'HELLO [protover [AUTH username password] [SETNAME clientname]]',
  );
  t.equal(usage(commandTable.get('client|setname')!), 'CLIENT SETNAME connection-name');
  t.end();
});

t.test('COMMAND DOCS flags are simple strings inside a set (redis-cli asserts on it)', (t) => {
  const docs = commandDocs(commandTable.get('ping')!);
  t.equal(docs.t, 'map');
  if (docs.t !== 'map') return t.end();
  const args = docs.v.find(([k]) => k.t === 'bulk' && k.v === 'arguments')?.[1];
  t.equal(args?.t, 'array');
  const first = args?.t === 'array' ? args.v[0] : undefined;
  const flags =
    first?.t === 'map' ? first.v.find(([k]) => k.t === 'bulk' && k.v === 'flags')?.[1] : undefined;
  t.same(flags, { t: 'set', v: [{ t: 'simple', v: 'optional' }] });
  t.end();
});
