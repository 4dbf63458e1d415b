import net from 'node:net';

/**
 * A TCP connection to 127.0.0.1:`port` within `timeoutMs`, for the benchmark clients (RESP,
 * HTTP). The errors are the caller's own classes, so each client keeps its error types.
 */
export function connectLoopback(
  port: number,
  timeoutMs: number,
  errors: { timeout: (message: string) => Error; connection: (message: string) => Error },
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(errors.timeout(`connect to port ${port} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(errors.connection(`connect to port ${port}: ${error.message}`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
