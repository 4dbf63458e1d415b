import fc from 'fast-check';

/**
 * One fuzzing property as both the CI tests (test/fuzz) and the soak (`npm run fuzz`) run it:
 * a fast-check property built fresh per run batch, so a property that needs a resource (the
 * in-process node of the command fuzzer) can set it up and tear it down around the batch.
 */
export interface FuzzProperty {
  /** `surface/what`, e.g. `resp/hostile-chunked`: what `--only` matches and reports name. */
  readonly name: string;
  /** Builds the property; `teardown` runs after the batch, whatever happened. */
  setup(): Promise<Prepared>;
}

export interface Prepared {
  readonly property: fc.IRawProperty<unknown>;
  /** fast-check settings of this property (a stateful one skips shrinking: `endOnFailure`). */
  readonly params?: Partial<fc.Parameters<unknown>>;
  teardown?(): Promise<void>;
  /** Extra figures for the report (commands executed, rejections checked, ...). */
  figures?(): Record<string, number>;
}

export interface RunOptions {
  readonly runs: number;
  readonly seed: number;
  /** Replays one counterexample (fast-check's `path`), from a failure report. */
  readonly path?: string;
}

export interface PropertyReport {
  readonly name: string;
  readonly runs: number;
  readonly ms: number;
  readonly failed: boolean;
  readonly seed: number;
  /** Only when failed: what replays it, and what went wrong. */
  readonly path?: string;
  readonly counterexample?: string;
  readonly error?: string;
  readonly figures: Record<string, number>;
}

/** Runs one property for `runs` inputs and reports instead of throwing, so a soak goes on to the next. */
export async function runProperty(p: FuzzProperty, o: RunOptions): Promise<PropertyReport> {
  const started = performance.now();
  const prepared = await p.setup();
  try {
    const params: fc.Parameters<unknown> = {
      ...prepared.params,
      numRuns: o.runs,
      seed: o.seed,
      ...(o.path === undefined ? {} : { path: o.path, endOnFailure: true }),
    };
    const details = await fc.check(prepared.property, params);
    const base = { name: p.name, runs: details.numRuns, seed: o.seed, figures: prepared.figures?.() ?? {} };
    if (!details.failed) return { ...base, failed: false, ms: performance.now() - started };
    return {
      ...base,
      failed: true,
      ms: performance.now() - started,
      path: details.counterexamplePath ?? '',
      counterexample: fc.stringify(details.counterexample).slice(0, 2000),
      error: describe(details.errorInstance),
    };
  } finally {
    await prepared.teardown?.();
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err.stack ?? err.message).split('\n').slice(0, 6).join('\n');
  return String(err);
}

/** Throws (the way a property fails) with a message naming what did not hold. */
export function check(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new Error(typeof message === 'string' ? message : message());
}
