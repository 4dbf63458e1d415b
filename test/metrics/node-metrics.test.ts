import { Redis } from 'ioredis';
import t from 'tap';
import { parseInfo } from '../../src/metrics/info-fields.js';
import { LOCK_PROJECTIONS } from '../../src/metrics/lock-source.js';
import { QUEUE_PROJECTIONS } from '../../src/metrics/queue-source.js';
import {
  CLUSTER_NOT_PROJECTED,
  CLUSTER_PROJECTIONS,
  RAFT_PROJECTIONS,
} from '../../src/metrics/raft-source.js';
import { startTestNode } from '../helpers/node.js';
import { freePorts } from '../helpers/ports.js';

/** One sample's value from the text exposition; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

/**
 * The INFO fields each section exports some other way than a one-to-one projection: labelled
 * families (per group, per state, top-N names) or, for `cluster`, facts that are not figures.
 */
const OTHERWISE: Record<string, RegExp> = {
  cluster: new RegExp(`^(${CLUSTER_NOT_PROJECTED.join('|')})$`),
  raft: /^group\d+$/,
  locks: /^locks_top_contended$/,
  queues: /^(queue_messages_(ready|inflight|delayed|dead)|queue_deepest)$/,
};
const PROJECTED: Record<string, readonly { field: string }[]> = {
  cluster: CLUSTER_PROJECTIONS,
  raft: RAFT_PROJECTIONS,
  locks: LOCK_PROJECTIONS,
  queues: QUEUE_PROJECTIONS,
};

t.test('metrics of a running node are its INFO figures', async (t) => {
  const [httpPort] = await freePorts(1);
  const node = await startTestNode(t, ['--http-port', String(httpPort)]);
  t.equal(node.httpPort, httpPort);
  const redis = new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  t.teardown(() => redis.disconnect());
  await redis.connect();
  const metrics = async () => (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();

  t.test(
    'every figure of the cluster, raft, locks and queues sections is exported or deliberately not',
    async (t) => {
      const info = parseInfo(String(await redis.call('INFO', 'cluster', 'raft', 'locks', 'queues')));
      t.ok(info.size > 40, `INFO has ${info.size} fields`);
      for (const section of Object.keys(PROJECTED)) {
        const fields = parseInfo(String(await redis.call('INFO', section)));
        const projected = new Set(PROJECTED[section]!.map((p) => p.field));
        for (const field of fields.keys()) {
          t.ok(projected.has(field) || OTHERWISE[section]!.test(field), `${section}: ${field} has a metric`);
        }
        for (const field of projected)
          t.ok(fields.has(field), `${section}: projected field ${field} exists in INFO`);
      }
    },
  );

  t.test(
    'a lock grant shows in INFO and in the metrics alike; the command is counted and timed',
    async (t) => {
      const before = await metrics();
      t.equal(sample(before, 'lockstep_lock_grants_total'), 0);
      t.equal(sample(before, 'lockstep_commands_total{command="lock.acquire"}'), undefined);
      t.type(await redis.call('LOCK.ACQUIRE', 'm1', 'OWNER', 'a'), 'number');
      await t.rejects(redis.call('LOCK.ACQUIRE'), /wrong number of arguments/);
      const text = await metrics();
      const info = parseInfo(String(await redis.call('INFO', 'locks')));
      t.equal(sample(text, 'lockstep_lock_grants_total'), 1);
      t.equal(info.get('locks_grants'), '1', 'the same figure in INFO');
      t.equal(sample(text, 'lockstep_locks'), Number(info.get('locks_live')));
      t.equal(sample(text, 'lockstep_commands_total{command="lock.acquire"}'), 1, 'calls that ran');
      t.equal(
        sample(text, 'lockstep_command_rejections_total{command="lock.acquire"}'),
        1,
        'the arity error',
      );
      t.equal(
        sample(text, 'lockstep_command_duration_seconds_count{command="lock.acquire"}'),
        2,
        'both timed',
      );
      t.equal(sample(text, 'lockstep_command_duration_seconds_bucket{command="lock.acquire",le="+Inf"}'), 2);
      t.ok((sample(text, 'lockstep_command_duration_seconds_sum{command="lock.acquire"}') ?? 0) > 0);
    },
  );

  t.test('Raft figures per group, with the leader as a label', async (t) => {
    const text = await metrics();
    const raft = parseInfo(String(await redis.call('RAFT.INFO', '0')));
    t.equal(sample(text, 'lockstep_raft_term{group="0"}'), Number(raft.get('term')));
    t.equal(sample(text, 'lockstep_raft_is_leader{group="0"}'), 1, 'a one-node cluster leads group 0');
    t.equal(sample(text, 'lockstep_raft_leader_info{group="0",leader="n1"}'), 1);
    t.ok(
      (sample(text, 'lockstep_raft_commit_index{group="0"}') ?? 0) >= Number(raft.get('applied_index')) - 1,
    );
    t.equal(sample(text, 'lockstep_cluster_state_ok'), 1);
    t.equal(sample(text, 'lockstep_cluster_members'), 1);
    t.match(text, /^lockstep_build_info\{node="n1",version="[^"]+"\} 1$/m);
  });

  t.test('queue depth by queue and messages by state', async (t) => {
    await redis.call('Q.PUSH', 'deep', 'a', 'b', 'c');
    await redis.call('Q.POP', 'deep');
    const text = await metrics();
    t.equal(sample(text, 'lockstep_queue_depth{queue="deep"}'), 3, 'ready + inflight');
    t.equal(sample(text, 'lockstep_queue_messages{state="ready"}'), 2);
    t.equal(sample(text, 'lockstep_queue_messages{state="inflight"}'), 1);
    t.equal(sample(text, 'lockstep_queue_push_calls_total'), 1);
  });

  t.test('subcommands are timed apart, unknown commands not at all', async (t) => {
    await redis.call('CLIENT', 'ID');
    await t.rejects(redis.call('NOSUCHCOMMAND'), /unknown command/);
    const text = await metrics();
    t.ok((sample(text, 'lockstep_command_duration_seconds_count{command="client|id"}') ?? 0) >= 1);
    t.notMatch(text, /nosuchcommand/i);
  });

  t.test('INFO latencystats: Redis 7 format, from the same histograms', async (t) => {
    const info = parseInfo(String(await redis.call('INFO', 'latencystats')));
    const line = info.get('latency_percentiles_usec_lock.acquire');
    t.match(line, /^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
    t.notOk(
      [...info.values()].some((v) => v.includes('NaN')),
      'commands without a completed call are not listed',
    );
    t.notMatch(String(await redis.call('INFO')), /Latencystats/, 'not in the default sections, as in Redis');
  });

  t.test('process metrics are exported', async (t) => {
    const text = await metrics();
    t.match(text, /^process_resident_memory_bytes \d+/m);
    t.match(text, /^nodejs_eventloop_lag_seconds /m);
  });
});
