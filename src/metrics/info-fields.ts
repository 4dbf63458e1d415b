/**
 * Reading INFO's text back as values. The node's metrics are projections of its INFO sections
 * (src/metrics/node-sources.ts): each figure is computed once, by the layer that owns it, and
 * `INFO` and `/metrics` can never disagree. Pure.
 */

/** `field:value` lines of one or more rendered INFO sections (titles and blank lines skipped). */
export function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** A number field; undefined when absent or not numeric. */
export function numberField(fields: ReadonlyMap<string, string>, field: string): number | undefined {
  const text = fields.get(field);
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * `k=v,k=v` (INFO's list values: `role=leader,leader=n2,term=3`), for lists whose keys and
 * values cannot contain `,` (node ids, numbers). Lists of users' names use `namedCounts`.
 */
export function parsePairs(text: string): Map<string, string> {
  const pairs = new Map<string, string>();
  if (text === '') return pairs;
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    if (eq > 0) pairs.set(item.slice(0, eq), item.slice(eq + 1));
  }
  return pairs;
}

/**
 * `name=12,other=3` where names are the users' (lock and queue names may contain `,` or `=`):
 * each item is the shortest run of comma-separated pieces that ends in `=<integer>`.
 */
export function namedCounts(text: string): [string, number][] {
  const out: [string, number][] = [];
  if (text === '') return out;
  let pending = '';
  for (const piece of text.split(',')) {
    pending = pending === '' ? piece : `${pending},${piece}`;
    const m = /^(.*)=(-?\d+)$/s.exec(pending);
    if (m !== null) {
      out.push([m[1]!, Number(m[2])]);
      pending = '';
    }
  }
  return out;
}
