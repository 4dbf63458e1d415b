import type { TlsOptions } from 'node:tls';
import type { TlsFiles } from '../config/tls-files.js';

/**
 * A client that opens a TCP connection and never finishes the handshake holds a socket without
 * counting against `maxclients` (it is not a client yet); Node's default lets it for 120 s.
 */
const HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * TLS settings of the client port (`--tls-port`). The server always presents its certificate.
 * Client certificates are asked for and verified against `--tls-ca-file` only with
 * `--tls-auth-clients yes`; otherwise clients authenticate as on the plain port (AUTH, ACL
 * users), and TLS only encrypts and proves the server's identity. Unlike Redis, where
 * `tls-auth-clients` defaults to yes, the default here is no: most Redis client setups pass a
 * CA to trust the server but carry no certificate of their own.
 */
export function respTlsOptions(files: TlsFiles, authClients: boolean): TlsOptions {
  const verifyClients = authClients && files.ca !== null;
  return {
    cert: files.cert,
    key: files.key,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    ...(verifyClients ? { ca: files.ca!, requestCert: true, rejectUnauthorized: true } : {}),
  };
}
