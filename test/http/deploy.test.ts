import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import t from 'tap';
import { loadConfig } from '../../src/config/load.js';
import { waitForPing } from '../../tools/local-cluster.js';
import { freePorts } from '../helpers/ports.js';

/**
 * The deployment files: docker-compose.yml validated offline by Debian's docker-compose 1.29
 * (this machine has no Docker engine), .env.example read as the nodes read it, and the
 * container's entrypoint, healthcheck and operator script run as local processes, configured
 * by environment variables only, as in the compose file.
 */
const ROOT = resolve('.');
const MAIN = join(ROOT, 'dist', 'src', 'main.js');
const COMPOSE = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
const ENV_EXAMPLE = readFileSync(join(ROOT, '.env.example'), 'utf8');

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

t.test('docker-compose.yml validates with docker-compose 1.29', async (t) => {
  if (!hasCommand('docker-compose')) {
    t.comment(
      'SKIPPED: docker-compose is not installed (apt-get install -y --no-install-recommends docker-compose)',
    );
    t.skip('docker-compose not installed');
    return;
  }
  const check = spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config', '-q'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  t.equal(check.status, 0, `config -q: ${check.stderr.trim() || 'valid'}`);
  const services = execFileSync(
    'docker-compose',
    ['-f', 'docker-compose.yml', '--profile', 'monitoring', '--profile', 'extra', 'config', '--services'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  t.same(services.trim().split('\n').sort(), ['grafana', 'node1', 'node2', 'node3', 'node4', 'prometheus']);
  const withEnv = spawnSync(
    'docker-compose',
    ['-f', 'docker-compose.yml', '--env-file', '.env.example', 'config'],
    {
      cwd: ROOT,
      encoding: 'utf8',
    },
  );
  t.equal(withEnv.status, 0, 'valid with .env.example as its .env');
  t.match(
    withEnv.stdout,
    /LOCKSTEP_CLUSTER_SECRET: change-me-to-a-long-random-secret/,
    'the .env values reach the nodes',
  );
});

t.test('.env.example: every LOCKSTEP_ line is a valid setting and reaches the nodes', async (t) => {
  t.doesNotThrow(
    () => loadConfig({ argv: ['--id', 'n1'], env: {}, dotenvText: ENV_EXAMPLE }),
    'a node accepts it as its .env',
  );
  const keys = [...ENV_EXAMPLE.matchAll(/^(LOCKSTEP_[A-Z_]+)=/gm)].map((m) => m[1]!);
  t.ok(keys.length >= 5);
  for (const key of keys)
    t.match(COMPOSE, new RegExp(`^  ${key}: \\$\\{${key}:-\\}$`, 'm'), `${key} is passed to every node`);
});

t.test('prometheus scrapes the HTTP port of every node service', async (t) => {
  const prometheus = readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8');
  for (const [, n, port] of COMPOSE.matchAll(
    /LOCKSTEP_ID: n(\d)\n(?:.*\n)*?\s+LOCKSTEP_HTTP_PORT: "(\d+)"/g,
  )) {
    t.match(prometheus, `node${n}:${port}`);
  }
});

t.test('the container entrypoint, healthcheck and resp-call as local processes', async (t) => {
  const [port, httpPort] = await freePorts(2);
  const cwd = mkdtempSync(join(tmpdir(), 'lockstep-deploy-'));
  const env = {
    PATH: process.env['PATH'] ?? '',
    // As in docker-compose.yml's node1 and the Dockerfile, plus loopback for the test.
    LOCKSTEP_PROTECTED_MODE: 'no',
    LOCKSTEP_ID: 'n1',
    LOCKSTEP_PORT: String(port),
    LOCKSTEP_HTTP_PORT: String(httpPort),
    LOCKSTEP_ANNOUNCE_HOST: '127.0.0.1',
    LOCKSTEP_BIND: '127.0.0.1',
    LOCKSTEP_DATA: join(cwd, 'data'),
    LOCKSTEP_CLUSTER_SECRET: 'change-me-to-a-long-random-secret',
    LOCKSTEP_FSYNC: '',
  };
  let node: ChildProcess | undefined = spawn(process.execPath, [MAIN], { cwd, env, stdio: 'ignore' });
  const stop = async () => {
    if (node === undefined) return;
    const exited = new Promise((r) => node!.once('exit', r));
    node.kill('SIGTERM');
    await exited;
    node = undefined;
  };
  t.teardown(async () => {
    await stop();
    rmSync(cwd, { recursive: true, force: true });
  });
  await waitForPing(port!, 15_000);
  const script = (name: string, ...args: string[]) =>
    spawnSync(process.execPath, [join(ROOT, 'deploy', name), ...args], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });

  let health = script('healthcheck.mjs');
  for (let i = 0; i < 50 && health.status !== 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
    health = script('healthcheck.mjs');
  }
  t.equal(health.status, 0, `healthy: ${health.stdout.trim()}`);
  t.match(health.stdout, /^200 \{"status":"ok","node":"n1"/);

  const info = script('resp-call.mjs', 'CLUSTER.INFO');
  t.equal(info.status, 0);
  t.match(info.stdout, /cluster_state:ok/);
  const bad = script('resp-call.mjs', 'NOSUCH');
  t.equal(bad.status, 1);
  t.match(bad.stdout, /\(error\) ERR unknown command/);

  const backupFile = join(cwd, 'backup.sqlite');
  const backup = script('backup.mjs', env.LOCKSTEP_DATA, backupFile);
  t.equal(
    backup.status,
    0,
    `online backup of the running node: ${backup.stdout.trim() || backup.stderr.trim()}`,
  );
  t.match(backup.stdout, /integrity ok/);
  const Database = (await import('better-sqlite3')).default;
  const copy = new Database(backupFile, { readonly: true });
  const tables = copy.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  copy.close();
  t.ok(tables.length > 0, `the copy holds the node's tables: ${tables.map((r) => r.name).join(', ')}`);
  t.equal(script('backup.mjs', env.LOCKSTEP_DATA, backupFile).status, 1, 'never overwrites a file');

  await stop();
  const down = script('healthcheck.mjs');
  t.equal(down.status, 1, `unhealthy when the node is gone: ${down.stdout.trim()}`);
});

t.test(
  'every metric the Grafana dashboard queries exists (the cache ones once the cache registers them)',
  async (t) => {
    const dashboard = readFileSync(join(ROOT, 'deploy', 'grafana', 'dashboards', 'lockstep.json'), 'utf8');
    const names = new Set(
      [...dashboard.matchAll(/\b(lockstep_[a-z0-9_]+|process_[a-z_]+)/g)].map((m) =>
        m[1]!.replace(/_(bucket|sum|count)$/, ''),
      ),
    );
    const { startTestNode } = await import('../helpers/node.js');
    const [httpPort] = await freePorts(1);
    const node = await startTestNode(t, ['--http-port', String(httpPort)]);
    await fetch(`http://127.0.0.1:${node.httpPort}/health`);
    const text = await (await fetch(`http://127.0.0.1:${node.httpPort}/metrics`)).text();
    for (const name of names) {
      if (name.startsWith('lockstep_cache_')) continue;
      t.match(text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} is exported`);
    }
    const cache = [...names].filter((n) => n.startsWith('lockstep_cache_'));
    t.comment(`cache metrics the dashboard expects (src/metrics/README.md): ${cache.join(', ')}`);
  },
);
