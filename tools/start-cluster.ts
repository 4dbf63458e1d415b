/**
 * `npm start`: a local 3-node cluster (RESP 7001-7003, HTTP 8001-8003, data in ./data), its
 * logs in the terminal, and a clean stop on Ctrl-C. Restarting it keeps ./data.
 */
import { LocalCluster } from './local-cluster.js';

const cluster = new LocalCluster({
  size: Number(process.env['LOCKSTEP_LOCAL_NODES'] ?? 3),
  onLog: (id, line) => process.stdout.write(`[${id}] ${formatLog(line)}\n`),
});

function formatLog(line: string): string {
  try {
    const {
      level,
      msg,
      time,
      node: _node,
      pid: _pid,
      hostname: _host,
      ...rest
    } = JSON.parse(line) as Record<string, unknown>;
    const levelName = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' }[
      level as number
    ];
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return `${new Date(time as number).toISOString().slice(11, 23)} ${levelName ?? level} ${msg}${extra}`;
  } catch {
    return line;
  }
}

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  process.stdout.write('\nstopping the cluster...\n');
  await cluster.stopAll();
  process.stdout.write('all nodes stopped; data kept in ./data\n');
  process.exit(0);
}
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  await cluster.start();
} catch (err) {
  process.stderr.write(`could not start the cluster: ${err instanceof Error ? err.message : String(err)}\n`);
  await cluster.stopAll(1000);
  process.exit(1);
}

const first = cluster.nodes[0];
const lines = [
  '',
  `lockstep: ${cluster.nodes.length} nodes running`,
  ...cluster.nodes.map(
    (n) => `  ${n.id}  RESP 127.0.0.1:${n.port}   bus ${n.busPort}   HTTP ${n.httpPort}   data ${n.dataDir}`,
  ),
  '',
  'try (any node answers any command; followers forward to the leader):',
  `  redis-cli -p ${first?.port} CLUSTER.INFO`,
  `  redis-cli -p ${first?.port} CLUSTER.NODES`,
  `  redis-cli -p ${first?.port} LOCK.ACQUIRE resource1 OWNER clientA TTL 30000`,
  `  redis-cli -p ${cluster.nodes[1]?.port ?? first?.port} Q.PUSH orders '{"order_id":1}'`,
  `  redis-cli -p ${cluster.nodes[2]?.port ?? first?.port} Q.POP orders`,
  `  redis-cli -p ${first?.port} CACHE.SET temperature 25`,
  `  curl http://127.0.0.1:${first?.httpPort}/health`,
  `  open http://127.0.0.1:${first?.httpPort}/ (the live status page), /metrics for Prometheus`,
  '',
  'n1 founds the cluster and the others join it; the cluster is ready when CLUSTER.INFO',
  'says cluster_state:ok on every node. Ctrl-C stops every node cleanly; `npm start`',
  'again recovers everything from ./data.',
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
