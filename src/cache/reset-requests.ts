/**
 * When the cache asks group 0 to start a new epoch. The coherence protocol assumes every
 * message arrives: a lost Inv, Data or ack leaves a line (and the home's entry) in a transient
 * state that nothing will ever move on, so the key is wedged on that node. The bus loses
 * messages only when a link goes down (frames queued or in flight are dropped) or when a frame
 * cannot be queued at all. If the peer stays away, group 0 marks it down and the epoch changes
 * anyway; but a peer that comes back first (a quick restart, a short partition, a paused
 * process) finds every cache of this epoch still trusting the state those messages would have
 * changed. Then the cache asks for `cache-reset` at the epoch the loss happened in: every node
 * empties its cache and directory and the epoch barrier runs again, exactly as for a member
 * change. The command applies only at that epoch, so when several nodes notice the same loss
 * the cache is emptied once.
 */
export interface CacheResetOptions {
  /** Proposes `cache-reset` at `epoch` to group 0; resolves with an error message or null. */
  readonly propose: (epoch: number) => Promise<string | null>;
  readonly log: (level: 'info' | 'warn', message: string, fields: object) => void;
}

export class CacheResetRequests {
  readonly #o: CacheResetOptions;
  /** Peers whose link is down, with the epoch it went down in. */
  readonly #lostInEpoch = new Map<string, number>();
  /** The epoch a reset was asked for, until the epoch moves past it. */
  #wanted = -1;
  #inFlight = false;
  /** The epoch whose failed proposal was logged (once, however often it is retried). */
  #failureLogged = -1;
  /** Resets this node asked for (one per epoch, however many times it had to propose). */
  requested = 0;

  constructor(options: CacheResetOptions) {
    this.#o = options;
  }

  linkDown(peer: string, epoch: number): void {
    if (!this.#lostInEpoch.has(peer)) this.#lostInEpoch.set(peer, epoch);
  }

  /**
   * The link to `peer` is back. True when it went down in `epoch`, the current one: frames of
   * this epoch may have been lost with it. (Frames of older epochs are dropped by their
   * receivers anyway, and a frame sent while the link was down was refused, which `request`s.)
   */
  linkUp(peer: string, epoch: number): boolean {
    const lost = this.#lostInEpoch.get(peer);
    this.#lostInEpoch.delete(peer);
    return lost === epoch;
  }

  /** Asks for a reset of `epoch` (once per epoch; `retry` proposes again until it applies). */
  request(epoch: number, reason: string, fields: object): void {
    if (epoch < 1 || this.#wanted === epoch) return;
    this.#wanted = epoch;
    this.requested++;
    this.#o.log('warn', `cache messages may have been lost (${reason}); asking for a new cache epoch`, {
      epoch,
      ...fields,
    });
    this.#propose(epoch);
  }

  /** Called every tick with the current epoch: proposes again while the asked reset has not applied. */
  retry(epoch: number): void {
    if (this.#wanted === epoch) this.#propose(epoch);
  }

  #propose(epoch: number): void {
    if (this.#inFlight) return;
    this.#inFlight = true;
    const done = (error: string | null): void => {
      this.#inFlight = false;
      // Without a quorum the proposal fails; the next tick tries again.
      if (error === null || this.#failureLogged === epoch) return;
      this.#failureLogged = epoch;
      this.#o.log('info', 'cache reset not applied yet; retrying every tick', { epoch, error });
    };
    this.#o.propose(epoch).then(done, (e: unknown) => done(e instanceof Error ? e.message : String(e)));
  }
}
