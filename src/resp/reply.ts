/**
 * A reply as a value: what command handlers return. The server encodes it as RESP2 or RESP3
 * for the connection's protocol; the HTTP API turns the same value into JSON; the cluster bus
 * carries it back from a forwarded command. One shape, three consumers.
 */
export type Reply =
  | { readonly t: 'simple'; readonly v: string }
  | { readonly t: 'error'; readonly v: string }
  | { readonly t: 'int'; readonly v: number | bigint }
  | { readonly t: 'bulk'; readonly v: Buffer | string }
  | { readonly t: 'null' }
  | { readonly t: 'array'; readonly v: readonly Reply[] }
  | { readonly t: 'map'; readonly v: readonly (readonly [Reply, Reply])[] }
  | { readonly t: 'set'; readonly v: readonly Reply[] }
  | { readonly t: 'double'; readonly v: number }
  | { readonly t: 'bool'; readonly v: boolean }
  | { readonly t: 'verbatim'; readonly format: string; readonly v: string }
  | { readonly t: 'push'; readonly v: readonly Reply[] };

export const OK: Reply = Object.freeze({ t: 'simple', v: 'OK' });
export const PONG: Reply = Object.freeze({ t: 'simple', v: 'PONG' });
export const NULL: Reply = Object.freeze({ t: 'null' });

export const simple = (v: string): Reply => ({ t: 'simple', v });
/** `line` is the text after `-`: the error code, a space, the message. */
export const error = (line: string): Reply => ({ t: 'error', v: line });
export const int = (v: number | bigint): Reply => ({ t: 'int', v });
export const bulk = (v: Buffer | string): Reply => ({ t: 'bulk', v });
export const array = (v: readonly Reply[]): Reply => ({ t: 'array', v });
export const set = (v: readonly Reply[]): Reply => ({ t: 'set', v });
export const double = (v: number): Reply => ({ t: 'double', v });
export const bool = (v: boolean): Reply => ({ t: 'bool', v });
export const verbatim = (v: string, format = 'txt'): Reply => ({ t: 'verbatim', format, v });
export const push = (v: readonly Reply[]): Reply => ({ t: 'push', v });

/** A map from plain string keys; values are replies or plain JS values converted with `from`. */
export function map(entries: Record<string, Reply>): Reply {
  return { t: 'map', v: Object.entries(entries).map(([k, v]) => [bulk(k), v] as const) };
}
