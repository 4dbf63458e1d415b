/**
 * How a part of the node contributes metrics: a `MetricsSource` declares metric families that
 * are *read* from the part's own figures on every scrape (nothing is copied or kept twice), and
 * optionally the figures of its status-page panel. The lock, queue, Raft and server figures
 * are sources (src/metrics/node-sources.ts); the cache plugs in the same way, from its own
 * folder, with one `metrics.addSource(...)` line in src/node.ts. See src/metrics/README.md.
 */
import type { HistogramSnapshot } from '../lib/histogram.js';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  readonly labels: Labels;
  readonly value: number;
}

interface FamilyBase {
  /** Full Prometheus name: `lockstep_` prefix, base units (`_seconds`, `_bytes`), counters end in `_total`. */
  readonly name: string;
  /** One sentence for `# HELP`. */
  readonly help: string;
  /** Names of the labels every sample carries, in order; empty for a single unlabelled value. */
  readonly labelNames: readonly string[];
}

export interface ValueFamily extends FamilyBase {
  /** `counter`: only ever goes up while the process lives. Anything that can go down is a `gauge`. */
  readonly kind: 'counter' | 'gauge';
  /** A number (no labels), or one sample per label combination. Undefined: no value now (omitted). */
  read(): number | readonly Sample[] | undefined;
}

export interface HistogramFamily extends FamilyBase {
  readonly kind: 'histogram';
  /** One snapshot per label combination; bounds in the family's unit (seconds). */
  read(): readonly { readonly labels: Labels; readonly snapshot: HistogramSnapshot }[];
}

export type Family = ValueFamily | HistogramFamily;

/** Figures for one panel of the status page, by name (as the part's INFO section names them). */
export type PanelFigures = Readonly<Record<string, number | string>>;

export interface MetricsSource {
  /** Lower-case id (`cache`): the key of its panel in the status JSON. */
  readonly name: string;
  readonly families: readonly Family[];
  /** The panel's figures; a source without it contributes metrics only. */
  readonly panel?: () => PanelFigures;
}

/** What a part of the node is given to register its metrics with. */
export interface MetricsRegistrar {
  /** Throws on a badly named family or a name already taken: a startup error, never at scrape time. */
  addSource(source: MetricsSource): void;
}

const NAME = /^lockstep_[a-z]([a-z0-9_]*[a-z0-9])?$/;
const LABEL = /^[a-z][a-z0-9_]*$/;
/** Labels Prometheus or this exposition reserve. */
const RESERVED_LABELS = new Set(['le', 'quantile', 'instance', 'job']);

/** Why `family` breaks the naming conventions, or null when it keeps them. */
export function familyNameProblem(family: Family): string | null {
  const { name } = family;
  if (!NAME.test(name)) return `metric name '${name}' must match ${NAME} (lower case, lockstep_ prefix)`;
  if (family.kind === 'counter' && !name.endsWith('_total')) return `counter '${name}' must end in _total`;
  if (family.kind !== 'counter' && name.endsWith('_total'))
    return `${family.kind} '${name}' must not end in _total`;
  if (/_(ms|milliseconds|kb|mb|percent)(_|$)/.test(name))
    return `metric '${name}' must use base units (seconds, bytes, ratio)`;
  if (family.help.trim() === '') return `metric '${name}' needs a help text`;
  for (const label of family.labelNames) {
    if (!LABEL.test(label) || RESERVED_LABELS.has(label))
      return `metric '${name}' has a bad label name '${label}'`;
  }
  if (new Set(family.labelNames).size !== family.labelNames.length) return `metric '${name}' repeats a label`;
  return null;
}
