import { isIP } from 'node:net';
import type { Derived } from './derived.js';

/**
 * The kinds of value a setting can hold. Each constructor returns a `Setting<T>` that parses
 * the text of a flag, env var or `.env` line, says what it expected when the text is wrong, and
 * prints a value back as text that parses to the same value (for `CONFIG GET`, `--help` and
 * the reference docs).
 */

/** Sections of `--help` and of the reference, in this order. */
export const GROUP_TITLES = {
  node: 'Node and network',
  security: 'Security',
  limits: 'Client limits',
  storage: 'Storage',
  cluster: 'Raft and cluster',
  lock: 'Locks',
  queue: 'Queues',
  cache: 'Cache',
  ops: 'Operations',
} as const;

export type Group = keyof typeof GROUP_TITLES;

/**
 * When a new value can take effect. `live`: a running node could apply it (the settings a
 * future `CONFIG SET` may accept). `restart`: read once at start. `creation`: fixed when the
 * cluster or the node's data directory is created; a restart with another value is refused.
 */
export type Change = 'live' | 'restart' | 'creation';

export type Kind = 'int' | 'bytes' | 'bool' | 'enum' | 'text' | 'host' | 'addresses';

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly expected: string };

export interface Setting<T> {
  readonly kind: Kind;
  readonly group: Group;
  readonly description: string;
  readonly change: Change;
  /** Never echoed in errors, `CONFIG GET` or logs. */
  readonly secret: boolean;
  /** The value's shape for the reference table: `integer 1..65535`, `always | everysec | no`. */
  readonly type: string;
  /** The value's shape in `--help`: `<port>`, `<path>`. */
  readonly placeholder: string;
  readonly default: T | Derived;
  parse(text: string): Parsed<T>;
  format(value: T): string;
}

/** What every row of the schema states besides its kind. */
interface Common {
  readonly group: Group;
  readonly description: string;
  /** Defaults to `restart`. */
  readonly change?: Change;
}

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** The longest delay Node's timers honour (2^31 - 1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (expected: string): Parsed<never> => ({ ok: false, expected });

export function int(spec: Common & { min: number; max: number; default: number | Derived }): Setting<number> {
  const expected = `an integer between ${spec.min} and ${spec.max}`;
  return {
    ...common(spec, 'int', `integer ${spec.min}..${spec.max}`, '<n>'),
    default: spec.default,
    parse(text) {
      if (!/^\d+$/.test(text)) return bad(expected);
      const value = Number(text);
      return value >= spec.min && value <= spec.max ? ok(value) : bad(expected);
    },
    format: String,
  };
}

/** Redis's size suffixes: k, m, g are powers of 1000; kb, mb, gb are powers of 1024. */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  k: 1e3,
  kb: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
};

const BINARY_UNITS = [
  ['gb', 1024 ** 3],
  ['mb', 1024 ** 2],
  ['kb', 1024],
] as const;

export function formatBytes(bytes: number): string {
  for (const [unit, size] of BINARY_UNITS) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

export function bytes(spec: Common & { min: number; max: number; default: number }): Setting<number> {
  const range = `${formatBytes(spec.min)}..${formatBytes(spec.max)}`;
  const expected = `a size between ${formatBytes(spec.min)} and ${formatBytes(spec.max)}, like 65536, 64kb or 16mb`;
  return {
    ...common(spec, 'bytes', `bytes ${range}`, '<bytes>'),
    default: spec.default,
    parse(text) {
      const match = /^(\d+)(k|kb|m|mb|g|gb)?$/i.exec(text);
      if (!match) return bad(expected);
      const value = Number(match[1]) * (SIZE_UNITS[(match[2] ?? '').toLowerCase()] as number);
      return Number.isSafeInteger(value) && value >= spec.min && value <= spec.max
        ? ok(value)
        : bad(expected);
    },
    format: formatBytes,
  };
}

const BOOL_WORDS: Readonly<Record<string, boolean>> = {
  yes: true,
  no: false,
  true: true,
  false: false,
  on: true,
  off: false,
  '1': true,
  '0': false,
};

export function bool(spec: Common & { default: boolean }): Setting<boolean> {
  return {
    ...common(spec, 'bool', 'yes | no', '[yes|no]'),
    default: spec.default,
    parse(text) {
      const value = BOOL_WORDS[text.toLowerCase()];
      return value === undefined ? bad('yes or no') : ok(value);
    },
    format: (value) => (value ? 'yes' : 'no'),
  };
}

export function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  spec: Common & { default: V[number] },
): Setting<V[number]> {
  return {
    ...common(spec, 'enum', values.join(' | '), `<${values.join('|')}>`),
    default: spec.default,
    parse(text) {
      const value = values.find((v) => v === text.toLowerCase());
      return value === undefined ? bad(`one of ${values.join(', ')}`) : ok(value);
    },
    format: String,
  };
}

interface TextSpec extends Common {
  /** One word naming the value, for `--help` and the reference: `path`, `password`, `name`. */
  readonly noun: string;
  readonly secret?: boolean;
  readonly pattern?: { readonly regex: RegExp; readonly expected: string };
}

/** Free text; with `default: null`, unset is a value of its own and empty text means unset. */
export function text(spec: TextSpec & { default: string | Derived }): Setting<string>;
export function text(spec: TextSpec & { default: null }): Setting<string | null>;
export function text(spec: TextSpec & { default: string | null | Derived }): Setting<string | null> {
  const pattern = spec.pattern;
  return {
    ...common(spec, 'text', spec.noun, `<${spec.noun}>`),
    secret: spec.secret ?? false,
    default: spec.default,
    parse(text) {
      if (text === '' && spec.default === null) return ok(null);
      if (pattern && !pattern.regex.test(text)) return bad(pattern.expected);
      return text === '' ? bad(`a non-empty ${spec.noun}`) : ok(text);
    },
    format: (value) => value ?? '',
  };
}

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function isHost(text: string): boolean {
  return isIP(text) !== 0 || HOSTNAME.test(text);
}

/** An IP address (IPv6 without brackets) or a host name. */
export function host(spec: Common & { default: string }): Setting<string>;
export function host(spec: Common & { default: null }): Setting<string | null>;
export function host(spec: Common & { default: string | null }): Setting<string | null> {
  return {
    ...common(spec, 'host', 'host', '<host>'),
    default: spec.default,
    parse(text) {
      if (text === '' && spec.default === null) return ok(null);
      return isHost(text) ? ok(text) : bad('an IP address or a host name');
    },
    format: (value) => value ?? '',
  };
}

/** A comma-separated list of `host:port`, IPv6 hosts in brackets: `10.0.0.2:7379,[::1]:7379`. */
export function addresses(spec: Common): Setting<readonly HostPort[]> {
  const expected = 'a comma-separated list of host:port, like 10.0.0.2:7379 or [::1]:7379';
  return {
    ...common(spec, 'addresses', 'host:port list', '<host:port,...>'),
    default: [],
    parse(text) {
      const list: HostPort[] = [];
      for (const item of text.split(',').map((s) => s.trim())) {
        if (item === '') continue;
        const address = parseHostPort(item);
        if (!address) return bad(expected);
        list.push(address);
      }
      return ok(list);
    },
    format: (list) =>
      list.map((a) => (isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(','),
  };
}

function parseHostPort(item: string): HostPort | null {
  const bracketed = /^\[([^\]]+)\]:(\d{1,5})$/.exec(item);
  const plain = /^([^:[\]]+):(\d{1,5})$/.exec(item);
  const host = bracketed?.[1] ?? plain?.[1];
  const port = Number(bracketed?.[2] ?? plain?.[2]);
  if (host === undefined || !(port >= 1 && port <= 65535)) return null;
  const hostOk = bracketed ? isIP(host) === 6 : isHost(host);
  return hostOk ? { host, port } : null;
}

function common(spec: Common, kind: Kind, type: string, placeholder: string) {
  return {
    kind,
    group: spec.group,
    description: spec.description,
    change: spec.change ?? 'restart',
    secret: false,
    type,
    placeholder,
  };
}
