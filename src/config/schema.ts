import { offset, template } from './derived.js';
import { addresses, bool, bytes, host, int, MAX_TIMER_MS, oneOf, type Setting, text } from './setting.js';

/**
 * Every setting of a node, once. The flag is the key (`--bus-port`), the env var is derived from
 * it (`LOCKSTEP_BUS_PORT`), and so is the property of `Config` (`busPort`) and its type. The
 * loader, `--help`, `CONFIG GET` and the reference docs all read this table.
 */
export const SCHEMA = {
  id: text({
    group: 'node',
    noun: 'name',
    default: template('node-<port>'),
    pattern: {
      regex: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      expected: "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
    },
    change: 'creation',
    description: "This node's name in the cluster; it must not change while its data directory lives.",
  }),
  port: int({
    group: 'node',
    min: 0,
    max: 65535,
    default: 7379,
    description: 'TCP port for RESP clients; 0 = any free port (tests; the node logs the one it got).',
  }),
  'bus-port': int({
    group: 'node',
    min: 0,
    max: 65535,
    default: offset('port', 10000),
    description: 'TCP port of the cluster bus: Raft, forwarded commands and cache coherence between nodes.',
  }),
  'http-port': int({
    group: 'node',
    min: 0,
    max: 65535,
    default: offset('port', 1000),
    description: 'HTTP port for /metrics, /health, the JSON API and the status page; 0 = off.',
  }),
  bind: host({
    group: 'node',
    default: '0.0.0.0',
    description: 'Address every listener binds to; protected mode narrows the default to loopback.',
  }),
  'announce-host': host({
    group: 'node',
    default: null,
    description: 'Address other nodes use to reach this one; empty = the bind address, or the host name.',
  }),
  join: addresses({
    group: 'node',
    description: 'Nodes of an existing cluster (host:port of their client port) to join at start.',
  }),

  requirepass: text({
    group: 'security',
    noun: 'password',
    secret: true,
    default: null,
    description: 'Password of the `default` user, as in Redis; empty = none.',
  }),
  'acl-file': text({
    group: 'security',
    noun: 'path',
    default: null,
    description: 'File of ACL users, one `user <name> <rules...>` line each (see src/acl/README.md).',
  }),
  'protected-mode': bool({
    group: 'security',
    default: true,
    description: 'Without requirepass or acl-file, listen on loopback only.',
  }),
  'enable-debug-command': bool({
    group: 'security',
    default: false,
    description:
      'Allow DEBUG.* (fault injection for tests, like Redis enable-debug-command); never in production.',
  }),
  'cluster-secret': text({
    group: 'security',
    noun: 'secret',
    secret: true,
    default: null,
    pattern: { regex: /^.{16,}$/, expected: 'at least 16 characters' },
    description: 'Shared secret every bus peer must prove it knows; empty = peers are not authenticated.',
  }),
  'tls-port': int({
    group: 'security',
    min: 0,
    max: 65535,
    default: 0,
    description: 'TCP port for RESP over TLS; 0 = off.',
  }),
  'tls-cert-file': text({
    group: 'security',
    noun: 'path',
    default: null,
    description: 'PEM certificate chain of this node, for tls-port and tls-bus.',
  }),
  'tls-key-file': text({
    group: 'security',
    noun: 'path',
    default: null,
    description: 'PEM private key of tls-cert-file.',
  }),
  'tls-ca-file': text({
    group: 'security',
    noun: 'path',
    default: null,
    description: 'PEM CA bundle that verifies bus peers, and clients with tls-auth-clients.',
  }),
  'tls-auth-clients': bool({
    group: 'security',
    default: false,
    description:
      'Clients on tls-port must present a certificate signed by tls-ca-file (Redis defaults to yes).',
  }),
  'tls-bus': bool({
    group: 'security',
    default: false,
    description: 'Run the cluster bus over mutual TLS (needs tls-cert-file, tls-key-file and tls-ca-file).',
  }),

  maxclients: int({
    group: 'limits',
    min: 1,
    max: 1_000_000,
    default: 10_000,
    change: 'live',
    description: 'Client connections at once; more are refused with an error.',
  }),
  'timeout-ms': int({
    group: 'limits',
    min: 0,
    max: MAX_TIMER_MS,
    default: 0,
    change: 'live',
    description: 'Close a client idle this long (a client blocked in a command is not idle); 0 = never.',
  }),
  'max-bulk-bytes': bytes({
    group: 'limits',
    min: 1,
    max: 1024 ** 3,
    default: 16 * 1024 ** 2,
    change: 'live',
    description: 'Longest bulk string (one argument) a client may send.',
  }),
  'max-args': int({
    group: 'limits',
    min: 1,
    max: 16_777_216,
    default: 65_536,
    change: 'live',
    description: 'Most arguments in one command, the command name included.',
  }),
  'max-inline-bytes': bytes({
    group: 'limits',
    min: 1,
    max: 16 * 1024 ** 2,
    default: 64 * 1024,
    change: 'live',
    description: 'Longest inline (telnet-style) command line.',
  }),
  'client-output-buffer-bytes': bytes({
    group: 'limits',
    min: 1,
    max: 1024 ** 3,
    default: 1024 ** 2,
    change: 'live',
    description: 'Stop reading from a client while this many reply bytes wait to be written to it.',
  }),
  'client-output-buffer-hard-bytes': bytes({
    group: 'limits',
    min: 1024,
    max: 4 * 1024 ** 3,
    default: 256 * 1024 ** 2,
    change: 'live',
    description:
      'Disconnect a client once this many reply bytes wait for it (it pipelines more than it reads).',
  }),
  'max-pending-replies': int({
    group: 'limits',
    min: 1,
    max: 1_000_000,
    default: 1024,
    change: 'live',
    description: 'Stop reading from a client while this many of its commands wait for their replies.',
  }),

  data: text({
    group: 'storage',
    noun: 'path',
    default: template('./data/<id>'),
    description: "Directory of this node's durable state (SQLite databases in WAL mode).",
  }),
  fsync: oneOf(['always', 'everysec', 'no'], {
    group: 'storage',
    default: 'always',
    description: 'When the Raft log reaches the disk: every batch, once a second, or when the OS decides.',
  }),

  partitions: int({
    group: 'cluster',
    min: 1,
    max: 1024,
    default: 16,
    change: 'creation',
    description: 'Queue partitions, Raft groups 1..P; fixed when the cluster is created.',
  }),
  replicas: int({
    group: 'cluster',
    min: 1,
    max: 7,
    default: 3,
    description: 'Replicas of each queue partition (fewer while the cluster has fewer nodes).',
  }),
  'meta-voters-max': int({
    group: 'cluster',
    min: 1,
    max: 9,
    default: 5,
    description: 'Most voters of group 0 (membership, ring, locks); the other nodes are learners.',
  }),
  'election-timeout-ms': int({
    group: 'cluster',
    min: 10,
    max: 60_000,
    default: 300,
    description:
      'Silence from the leader (randomised up to 2x) before an election; failover takes ~1.3x this.',
  }),
  'heartbeat-ms': int({
    group: 'cluster',
    min: 1,
    max: 10_000,
    default: 50,
    description: 'Interval of leader heartbeats and of Raft ticks; at most a fifth of election-timeout-ms.',
  }),
  'down-after-ms': int({
    group: 'cluster',
    min: 10,
    max: MAX_TIMER_MS,
    default: 5000,
    description: 'The meta leader marks a node down after this long without a heartbeat response.',
  }),
  'reassign-after-ms': int({
    group: 'cluster',
    min: 0,
    max: MAX_TIMER_MS,
    default: 60_000,
    description:
      "Re-create a down node's partition replicas on other nodes after it has been down this long.",
  }),
  'request-timeout-ms': int({
    group: 'cluster',
    min: 1,
    max: MAX_TIMER_MS,
    default: 5000,
    change: 'live',
    description:
      'Longest a request waits for its Raft group or a forwarded node before -TRYAGAIN or -NOQUORUM.',
  }),
  'snapshot-after-entries': int({
    group: 'cluster',
    min: 1,
    max: 1_000_000_000,
    default: 10_000,
    description: "Compact a group's Raft log into a snapshot after this many entries since the last one.",
  }),
  'snapshot-chunk-bytes': bytes({
    group: 'cluster',
    min: 1024,
    max: 8 * 1024 ** 2,
    default: 1024 ** 2,
    description: 'Size of one InstallSnapshot chunk on the bus (8 MiB at most: a bus frame ends at 16 MiB).',
  }),
  'raft-max-inflight': int({
    group: 'cluster',
    min: 1,
    max: 4096,
    default: 256,
    description: 'AppendEntries messages a leader keeps in flight to one follower (the pipelining window).',
  }),
  'raft-max-append-bytes': bytes({
    group: 'cluster',
    min: 1024,
    max: 8 * 1024 ** 2,
    default: 1024 ** 2,
    description:
      'Largest batch of entries in one AppendEntries message (8 MiB at most: a bus frame ends at 16 MiB).',
  }),

  'lock-default-ttl-ms': int({
    group: 'lock',
    min: 1,
    max: 86_400_000,
    default: 30_000,
    change: 'live',
    description: 'Lease of a lock acquired without TTL.',
  }),
  'lock-max-waiters': int({
    group: 'lock',
    min: 1,
    max: 1_000_000,
    default: 10_000,
    change: 'live',
    description: 'Requests that may wait for one lock; more get -LIMIT.',
  }),

  'queue-max-length': int({
    group: 'queue',
    min: 1,
    max: 1_000_000_000,
    default: 1_000_000,
    change: 'live',
    description:
      'Messages one queue holds, dead letters included; more pushes get -LIMIT (Q.CONFIG MAXLEN may be lower).',
  }),
  'queue-max-message-bytes': bytes({
    group: 'queue',
    min: 1,
    max: 512 * 1024,
    default: 512 * 1024,
    change: 'live',
    description: 'Largest message payload (512 KiB at most); a bigger one gets -LIMIT and nothing is pushed.',
  }),

  'cache-protocol': oneOf(['mesi', 'moesi'], {
    group: 'cache',
    default: 'mesi',
    description: 'Coherence protocol of the cache; every node of a cluster must use the same one.',
  }),
  'cache-max-bytes': bytes({
    group: 'cache',
    min: 1024,
    max: 1024 ** 4,
    default: 64 * 1024 ** 2,
    description:
      "This node's local cache (keys and values), LRU-evicted beyond it; a bigger CACHE.SET entry gets -LIMIT.",
  }),
  'cache-home-max-bytes': bytes({
    group: 'cache',
    min: 1024,
    max: 1024 ** 4,
    default: 256 * 1024 ** 2,
    description: 'Memory copies this node keeps for the keys it is home of.',
  }),

  'log-level': oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], {
    group: 'ops',
    default: 'info',
    change: 'live',
    description: 'Least severe log level written (pino levels).',
  }),
  'shutdown-timeout-ms': int({
    group: 'ops',
    min: 0,
    max: MAX_TIMER_MS,
    default: 5000,
    description:
      'On SIGTERM or SIGINT, how long in-flight requests get to finish before connections are cut.',
  }),
} as const satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof SCHEMA;

/** `bus-port` → `busPort`. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Head}${Capitalize<CamelCase<Tail>>}`
  : S;

type ValueOf<S> = S extends Setting<infer T> ? T : never;

/** A node's settings after loading: every property present, typed by its schema row. */
export type Config = { readonly [K in SettingName as CamelCase<K>]: ValueOf<(typeof SCHEMA)[K]> };

export const SETTING_NAMES = Object.keys(SCHEMA) as SettingName[];

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(SCHEMA, name);
}

/** The `Config` property of a setting. */
export function propertyName(name: SettingName): keyof Config {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Config;
}

export const ENV_PREFIX = 'LOCKSTEP_';

/** `bus-port` → `LOCKSTEP_BUS_PORT`. */
export function envName(name: SettingName): string {
  return ENV_PREFIX + name.toUpperCase().replaceAll('-', '_');
}

/** The schema row as the loader and renderers use it, without the value type. */
export function settingOf(name: SettingName): Setting<unknown> {
  return SCHEMA[name] as Setting<unknown>;
}
