import type { InfoRegistry } from '../server/info.js';
import { numberField, parseInfo } from './info-fields.js';
import type { ValueFamily } from './source.js';

/** The fields of one INFO section as its owner renders them now; empty when there is no such section. */
export type InfoReader = (section: string) => ReadonlyMap<string, string>;

export function infoReader(info: InfoRegistry): InfoReader {
  return (section) => parseInfo(info.render([section]));
}

/** One numeric INFO field exported as one unlabelled metric. */
export interface Projection {
  /** The INFO field, e.g. `locks_grants`. */
  readonly field: string;
  readonly name: string;
  readonly kind: 'counter' | 'gauge';
  readonly help: string;
  /** Multiplier to the metric's base unit: 0.001 for a `_ms` field exported in seconds. */
  readonly scale?: number;
}

/** The families of `projections`, each read from `section` on every scrape. */
export function infoFamilies(
  read: InfoReader,
  section: string,
  projections: readonly Projection[],
): ValueFamily[] {
  return projections.map((p) => ({
    name: p.name,
    kind: p.kind,
    help: p.help,
    labelNames: [],
    read: () => {
      const value = numberField(read(section), p.field);
      return value === undefined ? undefined : value * (p.scale ?? 1);
    },
  }));
}
