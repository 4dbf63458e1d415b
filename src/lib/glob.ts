/**
 * Redis-style glob matching (`stringmatchlen`): `*`, `?`, `[abc]`, `[^abc]`, `[a-z]` and `\`
 * escapes. Used by `CONFIG GET`, `COMMAND LIST FILTERBY PATTERN` and `LOCK.LIST MATCH`.
 * Iterative with backtracking to the last `*`, so a hostile pattern costs O(pattern × text),
 * not exponential time.
 */
export function globMatch(pattern: string, text: string, nocase = false): boolean {
  const p = nocase ? pattern.toLowerCase() : pattern;
  const s = nocase ? text.toLowerCase() : text;
  let pi = 0;
  let si = 0;
  let starPi = -1;
  let starSi = 0;
  while (si < s.length) {
    if (pi < p.length) {
      const c = p[pi];
      if (c === '*') {
        while (p[pi] === '*') pi++;
        if (pi === p.length) return true;
        starPi = pi;
        starSi = si;
        continue;
      }
      const step = matchOne(p, pi, s[si] as string);
      if (step > 0) {
        pi += step;
        si++;
        continue;
      }
    }
    if (starPi < 0) return false;
    pi = starPi;
    si = ++starSi;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

/** Length of the pattern token at `pi` when it matches `ch`, else 0. */
function matchOne(p: string, pi: number, ch: string): number {
  const c = p[pi];
  if (c === '?') return 1;
  if (c === '\\' && pi + 1 < p.length) return p[pi + 1] === ch ? 2 : 0;
  if (c !== '[') return c === ch ? 1 : 0;
  let i = pi + 1;
  const negate = p[i] === '^';
  if (negate) i++;
  let matched = false;
  while (i < p.length && p[i] !== ']') {
    if (p[i] === '\\' && i + 1 < p.length) {
      if (p[i + 1] === ch) matched = true;
      i += 2;
    } else if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
      const lo = p[i] as string;
      const hi = p[i + 2] as string;
      const [a, b] = lo <= hi ? [lo, hi] : [hi, lo];
      if (ch >= a && ch <= b) matched = true;
      i += 3;
    } else {
      if (p[i] === ch) matched = true;
      i++;
    }
  }
  // An unterminated class is taken literally up to the end, as Redis does.
  const length = i - pi + (i < p.length ? 1 : 0);
  return matched !== negate ? length : 0;
}
