/**
 * Inline commands: the telnet-friendly request form (`SET a "b c"`), split exactly like Redis's
 * `sdssplitargs` so that a line typed into `nc` or `telnet` means the same thing on lockstep as on
 * redis-server: double quotes with C escapes (`\n \r \t \b \a \xHH`, `\<any>` for the char itself),
 * single quotes where only `\'` is an escape, a closing quote that must be followed by a space or
 * the end of the line, and a quote that may open in the middle of a token (`a"b c"` is `ab c`) but
 * always closes it (`"a"b` is an error).
 */

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const BACKSLASH = 0x5c;
const LOWER_X = 0x78;

/** C's isspace(): Redis skips these between tokens and requires one after a closing quote. */
function isSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

/** Redis ends an unquoted token only on these (not on \v or \f, although isspace() skips them). */
function endsBareToken(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** The byte a backslash escape stands for inside double quotes; unknown escapes are the char itself. */
function escapedByte(c: number): number {
  switch (String.fromCharCode(c)) {
    case 'n':
      return LF;
    case 'r':
      return CR;
    case 't':
      return TAB;
    case 'b':
      return 0x08;
    case 'a':
      return 0x07;
    default:
      return c;
  }
}

/**
 * Splits one inline line (without its line ending) into arguments; `null` means unbalanced quotes.
 * Tokens without quotes are views into `line`; quoted ones are fresh buffers.
 */
export function splitInlineArgs(line: Buffer): Buffer[] | null {
  // Redis splits a C string: a NUL byte ends the line for it, so it ends it here too.
  const nul = line.indexOf(0);
  const text = nul < 0 ? line : line.subarray(0, nul);
  const args: Buffer[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && isSpace(text[pos]!)) pos++;
    if (pos >= text.length) return args;
    const start = pos;
    while (pos < text.length && !endsBareToken(text[pos]!) && !isQuote(text[pos]!)) pos++;
    if (pos >= text.length || !isQuote(text[pos]!)) {
      args.push(text.subarray(start, pos));
      continue;
    }
    const quoted = readQuotedToken(text, start, pos);
    if (quoted === null) return null;
    args.push(quoted.arg);
    pos = quoted.next;
  }
}

function isQuote(c: number): boolean {
  return c === DOUBLE_QUOTE || c === SINGLE_QUOTE;
}

/**
 * The slow path: `text[start, quoteAt)` is the token's bare prefix and a quoted section follows.
 * The closing quote ends the token and must be followed by a space or the end of the line.
 */
function readQuotedToken(text: Buffer, start: number, quoteAt: number): { arg: Buffer; next: number } | null {
  const bytes: number[] = Array.from(text.subarray(start, quoteAt));
  const closeAt =
    text[quoteAt] === DOUBLE_QUOTE
      ? readDoubleQuoted(text, quoteAt + 1, bytes)
      : readSingleQuoted(text, quoteAt + 1, bytes);
  if (closeAt < 0) return null;
  const next = closeAt + 1;
  if (next < text.length && !isSpace(text[next]!)) return null;
  return { arg: Buffer.from(bytes), next };
}

/** Appends the unescaped content to `out`; returns the index of the closing quote, or -1. */
function readDoubleQuoted(text: Buffer, from: number, out: number[]): number {
  let pos = from;
  while (pos < text.length) {
    const c = text[pos]!;
    if (c === DOUBLE_QUOTE) return pos;
    if (c !== BACKSLASH || pos + 1 >= text.length) {
      out.push(c);
      pos++;
      continue;
    }
    const next = text[pos + 1]!;
    const high = hexValue(text[pos + 2]);
    const low = hexValue(text[pos + 3]);
    if (next === LOWER_X && high >= 0 && low >= 0) {
      out.push(high * 16 + low);
      pos += 4;
    } else {
      out.push(escapedByte(next));
      pos += 2;
    }
  }
  return -1;
}

/** Single quotes: only `\'` is an escape; everything else, backslashes included, is literal. */
function readSingleQuoted(text: Buffer, from: number, out: number[]): number {
  let pos = from;
  while (pos < text.length) {
    const c = text[pos]!;
    if (c === SINGLE_QUOTE) return pos;
    if (c === BACKSLASH && text[pos + 1] === SINGLE_QUOTE) {
      out.push(SINGLE_QUOTE);
      pos += 2;
    } else {
      out.push(c);
      pos++;
    }
  }
  return -1;
}
