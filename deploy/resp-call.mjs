// One command to this node's RESP port, its reply printed: for operators inside the container,
// which has node but no redis-cli, e.g.
//   docker-compose exec node1 node deploy/resp-call.mjs CLUSTER.LEAVE n4
// Authenticates with LOCKSTEP_REQUIREPASS when set. Exit 1 on an error reply.
import { connect } from 'node:net';

const args = process.argv.slice(2);
if (args.length === 0) {
  process.stderr.write('usage: node deploy/resp-call.mjs COMMAND [ARG ...]\n');
  process.exit(2);
}
const encode = (argv) => `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
const port = Number(process.env.LOCKSTEP_PORT || 7379);
const commands = process.env.LOCKSTEP_REQUIREPASS ? [['AUTH', process.env.LOCKSTEP_REQUIREPASS], args] : [args];

const socket = connect({ host: '127.0.0.1', port });
socket.setTimeout(30_000, () => {
  process.stderr.write('no reply within 30 s\n');
  process.exit(1);
});
socket.on('error', (err) => {
  process.stderr.write(`cannot reach 127.0.0.1:${port}: ${err.message}\n`);
  process.exit(1);
});
socket.on('connect', () => socket.write(commands.map(encode).join('')));

let buffer = Buffer.alloc(0);
let replies = 0;
socket.on('data', (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  for (;;) {
    const parsed = parse(buffer, 0);
    if (parsed === null) return;
    buffer = buffer.subarray(parsed.end);
    replies++;
    if (replies < commands.length) {
      if (parsed.error) fail(parsed.text);
      continue;
    }
    process.stdout.write(`${parsed.text}\n`);
    socket.end();
    process.exit(parsed.error ? 1 : 0);
  }
});

function fail(text) {
  process.stderr.write(`${text}\n`);
  process.exit(1);
}

/** One RESP2/RESP3 reply as text, or null when incomplete. */
function parse(buf, offset) {
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  if (type === '+' || type === ':' || type === ',' || type === '#' || type === '(') return { text: line, end: next };
  if (type === '-') return { text: `(error) ${line}`, end: next, error: true };
  if (type === '_') return { text: '(nil)', end: next };
  if (type === '$' || type === '=' || type === '!') {
    const length = Number(line);
    if (length < 0) return { text: '(nil)', end: next };
    if (buf.length < next + length + 2) return null;
    return { text: buf.toString('utf8', next, next + length), end: next + length + 2, error: type === '!' };
  }
  if (type === '*' || type === '%' || type === '~' || type === '>') {
    const count = Number(line) * (type === '%' ? 2 : 1);
    if (count < 0) return { text: '(nil)', end: next };
    const items = [];
    let end = next;
    for (let i = 0; i < count; i++) {
      const item = parse(buf, end);
      if (item === null) return null;
      items.push(item.text);
      end = item.end;
    }
    return { text: items.join('\n'), end };
  }
  return { text: `(unparsed reply ${JSON.stringify(line)})`, end: next, error: true };
}
