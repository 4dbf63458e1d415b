/** One `INFO` section: ordered `field:value` pairs, computed when asked for. */
export type InfoSection = () => Iterable<readonly [string, string | number]>;

/**
 * The sections of `INFO`, contributed by the layers that own the figures (the server adds
 * `server`, `clients`, `stats`, `commandstats`; Raft adds `raft`, the cluster `cluster`, ...).
 * Rendering follows Redis: `# Title`, `field:value` lines, a blank line between sections.
 */
export class InfoRegistry {
  readonly #sections = new Map<string, { title: string; compute: InfoSection; byDefault: boolean }>();

  add(name: string, title: string, compute: InfoSection, byDefault = true): void {
    if (this.#sections.has(name)) throw new Error(`INFO section ${name} is added twice`);
    this.#sections.set(name, { title, compute, byDefault });
  }

  names(): string[] {
    return [...this.#sections.keys()];
  }

  /** `requested` empty → default sections; `all`/`everything` → all; unknown names are skipped, as in Redis. */
  render(requested: readonly string[]): string {
    const wanted = new Set(requested.map((s) => s.toLowerCase()));
    const everything = wanted.has('all') || wanted.has('everything');
    const useDefault = wanted.size === 0 || wanted.has('default');
    const parts: string[] = [];
    for (const [name, section] of this.#sections) {
      if (!(everything || wanted.has(name) || (useDefault && section.byDefault))) continue;
      let text = `# ${section.title}\r\n`;
      for (const [field, value] of section.compute()) text += `${field}:${value}\r\n`;
      parts.push(text);
    }
    return parts.join('\r\n');
  }
}
