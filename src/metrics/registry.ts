import { collectDefaultMetrics, Registry } from 'prom-client';
import { promMetric } from './exposition.js';
import { familyNameProblem, type MetricsRegistrar, type MetricsSource, type PanelFigures } from './source.js';

export interface NodeMetricsOptions {
  /** prom-client's standard `process_*` and `nodejs_*` metrics (CPU, memory, GC, event loop). */
  readonly processMetrics: boolean;
  readonly onReadError: (metric: string, err: unknown) => void;
}

/**
 * The node's metrics: one prom-client Registry holding the process metrics and every source's
 * families, exposed on `GET /metrics`, plus the sources' status-page panels.
 */
export class NodeMetrics implements MetricsRegistrar {
  readonly registry = new Registry();
  readonly #sources = new Map<string, MetricsSource>();
  readonly #onReadError: NodeMetricsOptions['onReadError'];

  constructor(options: NodeMetricsOptions) {
    this.#onReadError = options.onReadError;
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  addSource(source: MetricsSource): void {
    if (!/^[a-z][a-z0-9_]*$/.test(source.name))
      throw new Error(`metrics source name '${source.name}' must be lower case`);
    if (this.#sources.has(source.name)) throw new Error(`metrics source '${source.name}' is added twice`);
    for (const family of source.families) {
      const problem = familyNameProblem(family);
      if (problem !== null) throw new Error(`metrics source '${source.name}': ${problem}`);
      if (this.registry.getSingleMetric(family.name) !== undefined) {
        throw new Error(`metrics source '${source.name}': metric '${family.name}' is already registered`);
      }
    }
    for (const family of source.families) this.registry.registerMetric(promMetric(family, this.#onReadError));
    this.#sources.set(source.name, source);
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every source's panel figures, by source name; a panel that throws shows its error. */
  panels(): Record<string, PanelFigures> {
    const out: Record<string, PanelFigures> = {};
    for (const [name, source] of this.#sources) {
      if (source.panel === undefined) continue;
      try {
        out[name] = source.panel();
      } catch (err) {
        out[name] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    return out;
  }
}
