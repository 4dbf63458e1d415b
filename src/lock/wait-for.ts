/**
 * Cycle search in the wait-for graph (owner → the owners it waits for). The graph is acyclic
 * before every acquire, and every edge a new wait adds touches the requester, so any cycle it
 * closes runs through the requester: a depth-first search from it is enough.
 *
 * Deterministic: `next` must list an owner's successors in a fixed order (the table sorts
 * them), so every replica reports the same cycle. Linear in the part of the graph reachable
 * from `start`: an owner fully explored without reaching `start` never will.
 *
 * Returns the cycle as owners in wait order, starting and ending with `start`.
 */
export function findCycle(start: string, next: (owner: string) => readonly string[]): string[] | undefined {
  const done = new Set<string>([start]);
  const path: string[] = [start];
  const frames: { successors: readonly string[]; at: number }[] = [{ successors: next(start), at: 0 }];
  while (frames.length > 0) {
    const top = frames[frames.length - 1]!;
    if (top.at === top.successors.length) {
      frames.pop();
      path.pop();
      continue;
    }
    const owner = top.successors[top.at++]!;
    if (owner === start) return [...path, start];
    if (done.has(owner)) continue;
    done.add(owner);
    path.push(owner);
    frames.push({ successors: next(owner), at: 0 });
  }
  return undefined;
}
