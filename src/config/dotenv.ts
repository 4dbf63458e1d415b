import { ConfigError } from './errors.js';

/**
 * A `.env` parser following Docker Compose's env-file rules, because the same file feeds
 * `docker compose` (DESIGN §9) and a value must mean the same thing to both. Fifty lines of our
 * own beat the `dotenv` package: it cuts unquoted values at any `#` (a password like `a#b` would
 * differ from Compose) and it skips malformed lines silently instead of naming them.
 *
 * - blank lines and lines starting with `#` are skipped; `export KEY=value` is `KEY=value`;
 * - unquoted values are trimmed and end at a `#` that follows whitespace;
 * - `"double"` quotes understand `\n`, `\r`, `\t`, `\\` and `\"`; `'single'` quotes are literal
 *   except `\'`; both may span lines; after the closing quote only a comment may follow;
 * - no `${VAR}` interpolation: `$` is literal;
 * - a key given twice keeps its last value (the caller reads the entries in order).
 */
export interface DotenvEntry {
  readonly key: string;
  readonly value: string;
  /** 1-based line of the key, for error messages. */
  readonly line: number;
}

const DOUBLE_QUOTE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  r: '\r',
  t: '\t',
  '\\': '\\',
  '"': '"',
};

export function parseDotenv(text: string): DotenvEntry[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const entries: DotenvEntry[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = (lines[index] as string).trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=/.exec(line);
    if (!match) throw new ConfigError(`.env line ${index + 1}: expected KEY=value`);
    const key = match[1] as string;
    const rest = line.slice(match[0].length);
    const body = rest.trimStart();
    if (body.startsWith('"') || body.startsWith("'")) {
      const quoted = readQuoted(lines, index, body);
      entries.push({ key, value: quoted.value, line: index + 1 });
      index = quoted.lastIndex;
    } else {
      const commentAt = rest.search(/\s#/);
      entries.push({ key, value: (commentAt < 0 ? rest : rest.slice(0, commentAt)).trim(), line: index + 1 });
    }
  }
  return entries;
}

/** Reads a quoted value that starts at `body[0]`, possibly over several lines. */
function readQuoted(
  lines: readonly string[],
  firstIndex: number,
  body: string,
): { value: string; lastIndex: number } {
  const quote = body[0] as string;
  let index = firstIndex;
  let line = body;
  let pos = 1;
  let value = '';
  for (;;) {
    if (pos >= line.length) {
      index++;
      if (index >= lines.length)
        throw new ConfigError(`.env line ${firstIndex + 1}: unterminated ${quote} quote`);
      line = lines[index] as string;
      pos = 0;
      value += '\n';
      continue;
    }
    const ch = line[pos] as string;
    if (ch === quote) break;
    if (ch === '\\' && pos + 1 < line.length) {
      const next = line[pos + 1] as string;
      if (quote === '"') value += DOUBLE_QUOTE_ESCAPES[next] ?? `\\${next}`;
      else value += next === "'" ? "'" : `\\${next}`;
      pos += 2;
      continue;
    }
    value += ch;
    pos++;
  }
  if (!/^\s*(#.*)?$/.test(line.slice(pos + 1))) {
    throw new ConfigError(`.env line ${index + 1}: unexpected text after the closing ${quote} quote`);
  }
  return { value, lastIndex: index };
}
