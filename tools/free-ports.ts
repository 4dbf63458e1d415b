import { createServer } from 'node:net';

/**
 * Ports that were free a moment ago, for tests that must pass explicit ports to real processes.
 * Each port p is checked along with p + 10000 (the bus port a node derives from it).
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    if ((await isFree(port)) && (await isFree(port + 10000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A base port p such that p..p+count-1 and their bus ports (+10000) were free a moment ago. */
export async function freePortRange(count: number): Promise<number> {
  for (;;) {
    const base = 20000 + Math.floor(Math.random() * 29000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) ok = (await isFree(base + i)) && (await isFree(base + i + 10000));
    if (ok) return base;
  }
}
