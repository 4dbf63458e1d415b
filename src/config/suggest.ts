/**
 * "Did you mean" for unknown option and variable names: the candidate that extends the name
 * (`election-timeout` → `election-timeout-ms`, a forgotten unit), else the closest one by
 * edit distance when it is close enough to be a typo rather than another name.
 */
export function closestName<T extends string>(name: string, candidates: readonly T[]): T | undefined {
  const wanted = name.toLowerCase();
  const extensions = candidates.filter((candidate) => {
    const lower = candidate.toLowerCase();
    return lower.startsWith(wanted) && lower[wanted.length] === '-';
  });
  if (extensions.length === 1) return extensions[0];
  let best: T | undefined;
  let bestDistance = Math.max(1, Math.floor(wanted.length / 4)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Optimal string alignment distance: Levenshtein plus swaps of adjacent letters (`prot` → `port` is 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] as number;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      const swapped = i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1];
      if (swapped) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * cols + j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}
