/**
 * `Authorization: Basic base64(user:password)`, the HTTP counterpart of `AUTH user password`.
 * A bare password (`:secret`, or curl's `-u :secret`) means the `default` user, as
 * `AUTH secret` does. Pure.
 */
export type BasicCredentials = { readonly username: string; readonly password: string };

/** The credentials, null without the header, or a reason when the header is not valid Basic auth. */
export function parseBasicAuth(
  header: string | undefined,
): BasicCredentials | null | { readonly malformed: string } {
  if (header === undefined || header === '') return null;
  const m = /^Basic\s+([A-Za-z0-9+/]+=*)\s*$/i.exec(header);
  if (m === null) return { malformed: 'the Authorization header must be Basic base64(user:password)' };
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { malformed: 'the Basic credentials must be user:password' };
  const username = decoded.slice(0, colon);
  return { username: username === '' ? 'default' : username, password: decoded.slice(colon + 1) };
}
