/**
 * The RESP front end alone (issue 3, acceptance 5): PING and ECHO never reach Raft, so this
 * measures parsing, dispatch, reply encoding and the socket path against redis-server doing
 * the same work. Inline PING checks the telnet-style parser path that redis-benchmark uses.
 */
import { builtin, custom } from '../lib/redis-benchmark.js';
import type { Scenario, Suite } from './types.js';

const CLIENTS = 50;
const UNPIPELINED_REQUESTS = 100_000;
const PIPELINE_DEPTH = 16;
const PIPELINED_REQUESTS = 1_000_000;
// Pipelining moves the bottleneck from syscalls to per-command CPU, where Node pays most.
const UNPIPELINED_TARGET_RATIO = 0.9;
const PIPELINED_TARGET_RATIO = 0.6;

const commands = [
  { name: 'PING mbulk', command: builtin('ping_mbulk') },
  { name: 'PING inline', command: builtin('ping_inline') },
  { name: 'ECHO hello', command: custom('ECHO', 'hello') },
];

const scenarios: Scenario[] = commands.flatMap(({ name, command }) => [
  {
    name: `${name} -c ${CLIENTS}`,
    lockstepCommand: command,
    peer: 'redis-server',
    peerCommand: command,
    clients: CLIENTS,
    pipeline: 1,
    requests: UNPIPELINED_REQUESTS,
    targetRatio: UNPIPELINED_TARGET_RATIO,
  },
  {
    name: `${name} -c ${CLIENTS} -P ${PIPELINE_DEPTH}`,
    lockstepCommand: command,
    peer: 'redis-server',
    peerCommand: command,
    clients: CLIENTS,
    pipeline: PIPELINE_DEPTH,
    requests: PIPELINED_REQUESTS,
    targetRatio: PIPELINED_TARGET_RATIO,
  },
]);

export const respSuite: Suite = {
  name: 'resp',
  summary: 'PING (multibulk and inline) and ECHO, -c 50 with and without -P 16, vs redis-server',
  scenarios,
};
