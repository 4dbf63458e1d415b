import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import { ConfigError } from './errors.js';
import type { Config } from './schema.js';

/** The PEM contents behind `--tls-cert-file`, `--tls-key-file` and `--tls-ca-file`. */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer | null;
}

/**
 * Reads the TLS files once at start, for the client port and the bus alike; null when no
 * certificate is configured. The files are also turned into a secure context here so that a
 * missing file, bad PEM or a key that does not match the certificate stops the node at start
 * with a line naming the flag, instead of failing each handshake later. Certificates are read
 * only at start: replacing them takes a restart (a rolling one, node by node).
 */
export function readTlsFiles(config: Config): TlsFiles | null {
  if (config.tlsCertFile === null || config.tlsKeyFile === null) return null;
  const files: TlsFiles = {
    cert: read('tls-cert-file', config.tlsCertFile),
    key: read('tls-key-file', config.tlsKeyFile),
    ca: config.tlsCaFile === null ? null : read('tls-ca-file', config.tlsCaFile),
  };
  try {
    createSecureContext({ cert: files.cert, key: files.key, ...(files.ca ? { ca: files.ca } : {}) });
  } catch (e) {
    throw new ConfigError(
      `--tls-cert-file ${config.tlsCertFile}, --tls-key-file ${config.tlsKeyFile}` +
        `${config.tlsCaFile === null ? '' : ` or --tls-ca-file ${config.tlsCaFile}`} unusable: ${(e as Error).message}`,
    );
  }
  return files;
}

function read(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(
      `cannot read --${flag} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
}
