import { isIP } from 'node:net';
import type { Config } from './schema.js';

/**
 * Protected mode (DESIGN §10, as in Redis): a node nobody has given a password must not be
 * reachable from other machines by accident. Without requirepass and without an ACL file, the
 * default bind address (all interfaces) shrinks to loopback. An explicit non-loopback `--bind`
 * in that state is refused when the config loads (see checks.ts) rather than silently ignored.
 * An ACL file counts as authentication because it turns the default user off unless the file
 * itself declares `user default ... nopass`, which is then the operator's explicit choice.
 */
export function authConfigured(config: Config): boolean {
  return config.requirepass !== null || config.aclFile !== null;
}

export function isProtected(config: Config): boolean {
  return config.protectedMode && !authConfigured(config);
}

/** The address every listener of the node (RESP, TLS, HTTP, bus) binds to. */
export function effectiveBind(config: Config): string {
  if (!isProtected(config) || isLoopback(config.bind)) return config.bind;
  return isIP(config.bind) === 6 ? '::1' : '127.0.0.1';
}

export function isLoopback(host: string): boolean {
  const lower = host.toLowerCase();
  return lower === 'localhost' || lower === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(lower);
}
