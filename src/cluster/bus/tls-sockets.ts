import { isIP } from 'node:net';
import tls from 'node:tls';
import type { TlsFiles } from '../../config/tls-files.js';
import type { BusSocketFactory } from './transport.js';

/** A stranger that connects and stalls the handshake is dropped after this (as the bus handshake). */
const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * The bus over mutual TLS (`--tls-bus yes`). Both ends present `--tls-cert-file` and verify the
 * other's certificate against `--tls-ca-file`: the acceptor requests a client certificate and
 * drops a connection without a valid one, so a process without a certificate from that CA
 * never reaches the cluster-secret handshake, which still runs on top (TLS proves "has a
 * certificate from our CA", the secret proves "belongs to this cluster").
 *
 * The dialer also checks that the certificate names the address it dialed (an IP SAN for an IP,
 * a DNS SAN for a name), as HTTPS does: so a certificate the same CA issued to some other
 * machine cannot stand in for a node. The acceptor cannot check names (a dialer has no name to
 * match), which is one more reason to give the bus a CA of its own. A node certificate must
 * allow both uses (extendedKeyUsage serverAuth and clientAuth) since every node is both ends.
 *
 * `onRejected` hears of handshakes that failed on certificate grounds, so an operator sees a
 * misconfigured peer instead of a silent gap; refused TCP connections (a peer that is down)
 * are the transport's business and are not reported here.
 */
export function busTlsSocketFactory(
  files: TlsFiles,
  onRejected: (remote: string, reason: string) => void,
): BusSocketFactory {
  if (files.ca === null) throw new Error('the TLS bus needs a CA to verify peers');
  const credentials = { cert: files.cert, key: files.key, ca: files.ca };
  return {
    createServer(onConnection) {
      // The certificate is checked here rather than by `rejectUnauthorized`, which would
      // destroy the socket silently (its address gone): same verdict, but the log can say
      // who was refused and why. Only a verified peer reaches the transport.
      const server = tls.createServer(
        {
          ...credentials,
          requestCert: true,
          rejectUnauthorized: false,
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
          noDelay: true,
        },
        (socket) => {
          if (socket.authorized) {
            onConnection(socket);
            return;
          }
          const presented = socket.getPeerCertificate().raw !== undefined;
          onRejected(
            `${socket.remoteAddress}:${socket.remotePort}`,
            presented ? String(socket.authorizationError) : 'no client certificate',
          );
          socket.destroy();
        },
      );
      server.on('tlsClientError', (error, socket) =>
        onRejected(`${socket.remoteAddress}:${socket.remotePort}`, error.message),
      );
      return server;
    },
    connect(peer) {
      const socket = tls.connect({
        ...credentials,
        host: peer.host,
        port: peer.port,
        // SNI takes names only; for an IP the identity check uses the host (IP SANs).
        ...(isIP(peer.host) === 0 ? { servername: peer.host } : {}),
      });
      socket.setNoDelay(true);
      let secured = false;
      socket.once('secureConnect', () => {
        secured = true;
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        if (!secured && error.syscall === undefined) onRejected(`${peer.host}:${peer.port}`, error.message);
      });
      return socket;
    },
  };
}
