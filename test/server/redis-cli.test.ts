import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import t from 'tap';
import { startTestNode } from '../helpers/node.js';

const run = promisify(execFile);

function installed(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const hasRedisCli = installed('redis-cli');
const hasTmux = installed('tmux');

t.test(
  'redis-cli in scripts',
  { skip: hasRedisCli ? false : 'redis-cli is not installed (Debian redis-tools)' },
  async (t) => {
    const node = await startTestNode(t);
    const cli = async (...args: string[]) =>
      (await run('redis-cli', ['-p', String(node.port), ...args])).stdout;
    t.equal(await cli('PING'), 'PONG\n');
    t.equal(await cli('ECHO', 'hello world'), 'hello world\n');
    t.match(await cli('-3', 'HELLO', '3'), /^server lockstep\n.*\nproto 3\n/s);
    t.match(await cli('COMMAND', 'DOCS', 'PING'), /^ping\nsummary\nReturns PONG/);
    t.match(await cli('INFO', 'server'), /^# Server\r?\nlockstep_version:/);
    const piped = await new Promise<string>((resolve, reject) => {
      const child = execFile('redis-cli', ['-p', String(node.port)], (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      );
      child.stdin?.end('CLIENT SETNAME cli-test\nCLIENT GETNAME\n');
    });
    t.equal(piped, 'OK\ncli-test\n', 'one connection: SETNAME then GETNAME');
  },
);

t.test(
  'interactive redis-cli shows argument hints from our COMMAND DOCS',
  { skip: hasRedisCli && hasTmux ? false : 'needs redis-cli and tmux' },
  async (t) => {
    const node = await startTestNode(t);
    const session = `lockstep-hints-${process.pid}`;
    execFileSync('tmux', [
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '160',
      '-y',
      '10',
      `redis-cli -p ${node.port}`,
    ]);
    t.teardown(() => {
      try {
        execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    });
    const screenAfter = async (keys: string): Promise<string> => {
      execFileSync('tmux', ['send-keys', '-t', session, 'C-u', keys]);
      let screen = '';
      for (let i = 0; i < 40 && !/\[|connection-name/.test(screen); i++) {
        await new Promise((r) => setTimeout(r, 50));
        screen = execFileSync('tmux', ['capture-pane', '-t', session, '-p']).toString();
      }
      return screen;
    };
    await new Promise((r) => setTimeout(r, 300));
    // Redis's own hint for CLIENT LIST starts with [TYPE ...]; ours has only the ID filter,
    // so this line can only come from lockstep's COMMAND DOCS.
    t.match(await screenAfter('CLIENT LIST '), 'CLIENT LIST [ID client-id [client-id ...]]');
    t.match(await screenAfter('HELLO '), 'HELLO [protover [AUTH username password] [SETNAME clientname]]');
  },
);
