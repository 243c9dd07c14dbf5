/**
 * Turns taken in the order they were asked for, whatever order the work
 * before them finishes in: the messages of one WebSocket, or of the MQTT
 * source, are parsed side by side (big ones in slices), and each one's
 * readings go to the service only after the earlier messages' did, so a
 * stream's readings keep the order they were sent in.
 *
 * ```ts
 * const order = new InOrder();
 * socket.onmessage = async (ev) => {
 *   const turn = order.next(); // at once, in arrival order
 *   const parsed = await parseAsync(ev.data);
 *   await turn.ready; // every earlier message was handed on
 *   sink.ingest(parsed);
 *   turn.done();
 * };
 * ```
 */

/** One place in the order. */
export interface Turn {
  /** Resolves once every earlier turn is done. */
  ready: Promise<void>;
  /** Ends this turn (the next one's `ready` waits for it too); calling it again does nothing. */
  done(): void;
}

/** Hands out turns; see the module comment. */
export class InOrder {
  #last: Promise<void> = Promise.resolve();
  /** Turns handed out and not yet done. */
  #open = 0;

  /**
   * True when every turn handed out is done: work that finishes at once may
   * then go ahead without a turn (no promise), and still keeps the order.
   */
  get idle(): boolean {
    return this.#open === 0;
  }

  /** The next turn. */
  next(): Turn {
    const ready = this.#last;
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.#last = ready.then(() => ended);
    this.#open++;
    let open = true;
    return {
      ready,
      done: () => {
        if (open) this.#open--;
        open = false;
        end();
      },
    };
  }
}
