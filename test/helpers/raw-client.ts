import { connect, type Socket } from 'node:net';

/** A bare TCP client for protocol tests: send bytes, read what comes back, see if it closed. */
export class RawClient {
  #socket: Socket;
  #received = Buffer.alloc(0);
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk) => {
      this.#received = Buffer.concat([this.#received, chunk]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(data: string | Buffer): void {
    if (!this.#closed) this.#socket.write(data);
  }

  /** Waits until the received text satisfies `done`, the socket closes, or `timeoutMs` passes. */
  async read(done: (text: string) => boolean, timeoutMs = 2000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text) && !this.#closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, Math.max(1, deadline - Date.now()));
      });
    }
    return this.text;
  }

  /** Reads until at least `count` CRLF-terminated lines have arrived. */
  readLines(count: number, timeoutMs = 2000): Promise<string> {
    return this.read((text) => text.split('\r\n').length - 1 >= count, timeoutMs);
  }

  async waitClosed(timeoutMs = 2000): Promise<boolean> {
    await this.read(() => false, timeoutMs);
    return this.#closed;
  }

  get text(): string {
    return this.#received.toString('latin1');
  }

  /** Stops reading from the socket, like a client that does not read its replies. */
  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  clear(): void {
    this.#received = Buffer.alloc(0);
  }

  close(): void {
    this.#socket.destroy();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
