/**
 * Defaults computed from other settings (`bus-port` is `port` + 10000), kept as data rather
 * than functions so that `--help` and the reference can print them and a test can check that
 * every setting they name exists. A derived value is produced as text and goes through the
 * setting's own parser, so `--port 60000` yields a clear error about the derived bus port.
 */
export type Derived =
  | { readonly derived: 'template'; readonly template: string }
  | { readonly derived: 'offset'; readonly from: string; readonly offset: number };

/** Text with `<setting-name>` placeholders: `./data/<id>`. */
export function template(text: string): Derived {
  return { derived: 'template', template: text };
}

/** Another integer setting plus a constant: `<port> + 10000`. */
export function offset(from: string, plus: number): Derived {
  return { derived: 'offset', from, offset: plus };
}

export function isDerived(value: unknown): value is Derived {
  return typeof value === 'object' && value !== null && 'derived' in value;
}

const PLACEHOLDER = /<([a-z][a-z-]*)>/g;

/** The settings a derived default reads. */
export function derivedInputs(derived: Derived): string[] {
  if (derived.derived === 'offset') return [derived.from];
  return [...derived.template.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** `valueText(name)` is the formatted value of another setting. */
export function derivedText(derived: Derived, valueText: (name: string) => string): string {
  if (derived.derived === 'offset') return String(Number(valueText(derived.from)) + derived.offset);
  return derived.template.replace(PLACEHOLDER, (_, name: string) => valueText(name));
}

/** How `--help` and the reference show it: `./data/<id>`, `<port> + 10000`. */
export function describeDerived(derived: Derived): string {
  return derived.derived === 'offset' ? `<${derived.from}> + ${derived.offset}` : derived.template;
}
