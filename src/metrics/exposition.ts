/**
 * A `Family` in the shape prom-client's Registry formats (`name`, `help`, `type`, and `get()`
 * resolving to the values), so every metric — ours, the sources', prom-client's process
 * metrics — goes through one Registry and one exposition format. prom-client has no API for a
 * metric *read* at scrape time from its owner's figures (its Counter only counts up by itself,
 * its Histogram only observes), which is what keeps one source per figure.
 */
import type { Metric } from 'prom-client';
import type { Family, Labels } from './source.js';

interface Value {
  value: number;
  labels: Labels;
  metricName?: string;
}

interface PromMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly aggregator: 'sum';
  get(): Promise<{ name: string; help: string; type: string; values: Value[]; aggregator: 'sum' }>;
}

/** The values a family exposes now (pure given `read()`; exported for the tests). */
export function familyValues(family: Family): Value[] {
  if (family.kind !== 'histogram') {
    const read = family.read();
    if (read === undefined) return [];
    if (typeof read === 'number') return [{ value: read, labels: {} }];
    return read.map((s) => ({ value: s.value, labels: s.labels }));
  }
  const values: Value[] = [];
  for (const { labels, snapshot } of family.read()) {
    let cumulative = 0;
    snapshot.upperBoundsSeconds.forEach((bound, i) => {
      cumulative += snapshot.counts[i] ?? 0;
      values.push({
        metricName: `${family.name}_bucket`,
        labels: { ...labels, le: String(bound) },
        value: cumulative,
      });
    });
    values.push({
      metricName: `${family.name}_bucket`,
      labels: { ...labels, le: '+Inf' },
      value: snapshot.count,
    });
    values.push({ metricName: `${family.name}_sum`, labels, value: snapshot.sumSeconds });
    values.push({ metricName: `${family.name}_count`, labels, value: snapshot.count });
  }
  return values;
}

/**
 * Adapts `family` for `Registry.registerMetric`. A family whose read throws exposes nothing
 * for that scrape (the others still do) and `onReadError` is told.
 */
export function promMetric(family: Family, onReadError: (name: string, err: unknown) => void): Metric {
  const metric: PromMetric = {
    name: family.name,
    help: family.help,
    type: family.kind,
    aggregator: 'sum',
    async get() {
      let values: Value[] = [];
      try {
        values = familyValues(family);
      } catch (err) {
        onReadError(family.name, err);
      }
      return { name: family.name, help: family.help, type: family.kind, values, aggregator: 'sum' };
    },
  };
  // prom-client's Registry only calls `get()` and reads `name`, `help` and `type`.
  return metric as unknown as Metric;
}
