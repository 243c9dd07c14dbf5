/**
 * The window of messages between an MQTT connection and the sink: up to
 * `size` messages are being taken at once, and each QoS 1 message is
 * acknowledged (PUBACK) once its readings are taken and every message that
 * came before it on the connection is acknowledged, so the PUBACKs go out in
 * the order the PUBLISHes came (MQTT 3.1.1 and 5, section 4.6) and an
 * acknowledged reading is in its model (docs/guarantees.md).
 *
 * - A full window holds the connection: the next packet is read once the
 *   oldest message is acknowledged, so a slow daemon pushes back on the
 *   broker (TCP) instead of piling messages up. The window is full at
 *   `size` messages, or at `maxBytes` bytes of their payloads.
 * - A message the sink did not take (a worker down) is left unacknowledged,
 *   and so is every message after it; after `retryMs` the window hands the
 *   messages not taken to the sink again, in the order they came, as the
 *   broker would send them again (close() stops that: shutting down, they
 *   stay unacknowledged for the broker to send them at the next start).
 * - A connection's messages not acknowledged when it ends stay known by
 *   their packet id. The broker sends them again on the next connection
 *   (same id, DUP set, same topic and payload, when the session is kept):
 *   such a copy of a message already taken is acknowledged without being
 *   taken again and counted as a duplicate; a copy of one being taken waits
 *   for it. So are the last `size` messages acknowledged before the cut:
 *   their PUBACKs may not have left.
 *
 * ```ts
 * const w = new AckWindow({ size: 100, retryMs: 2000, acknowledge: (ids) => writePubacks(ids) });
 * w.add({ id, topic, payload, dup }, () => onMessage(topic, payload), () => readNext());
 * ```
 */

/**
 * The default window of messages in flight from an external broker: pair it
 * with the broker's own limit (Mosquitto's max_inflight_messages, 20 by
 * default; docs/deployment.md). The window carries at most this many
 * messages per round trip to the workers: at 10,000 one-reading messages a
 * second a round trip of up to 100 ms (100 held the daemon to some 2,000 to
 * 9,000 a second through Mosquitto, idle meanwhile; docs/scaling.md).
 */
export const DEFAULT_INFLIGHT = 1000;

/**
 * The default bound on the payload bytes in the window: a window of big
 * messages is full at this many bytes (a single bigger one is still taken),
 * so the window's memory stays bounded whatever its size and
 * `--mqtt-max-payload`.
 */
export const DEFAULT_INFLIGHT_BYTES = 16 * 1024 * 1024;

/** Whether a message may be acknowledged: at once, or once its readings are taken. */
export type Outcome = boolean | Promise<boolean>;

/** A message as read from the connection. */
export interface WindowMessage {
  /** Its packet id; 0 for QoS 0 (nothing to acknowledge). */
  id: number;
  topic: string;
  payload: Uint8Array;
  /** The broker's DUP flag: it may have sent this message before. */
  dup: boolean;
}

/** Options of AckWindow. */
export interface AckWindowOptions {
  /** Messages being taken or waiting for their acknowledgement at most (at least 1). */
  size: number;
  /**
   * Their payload bytes at most: the window is full once it holds this many
   * (one message is taken whatever its size). Default no bound.
   */
  maxBytes?: number;
  /** Writes the acknowledgements of `ids`, in this order, on the current connection. */
  acknowledge(ids: readonly number[]): void;
  /** Wait before the messages not taken are handed to the sink again, ms. */
  retryMs: number;
  /** The window's oldest message was not taken: they will be handed over again. */
  notTaken?(): void;
  /** A copy of a message already taken was acknowledged without taking it again. */
  duplicate?(message: WindowMessage): void;
}

interface Entry {
  message: WindowMessage;
  /** Hands it to the sink. */
  take: () => Outcome;
  /** The connection it came on (counted by reset()). */
  connection: number;
  /** Settles with whether it may be acknowledged. */
  outcome: Outcome;
  /** null while its readings are being taken. */
  ok: boolean | null;
}

/** In-order acknowledgements of a bounded number of messages in flight (see the file comment). */
export class AckWindow {
  readonly #opts: AckWindowOptions;
  /** The current connection's messages not acknowledged yet, in the order they came. */
  #entries: Entry[] = [];
  /** Where #entries starts (a queue without shifting on every acknowledgement). */
  #head = 0;
  /** QoS 1 messages not acknowledged yet, of any connection, by packet id. */
  readonly #unacked = new Map<number, Entry>();
  #connection = 0;
  /** The last `size` messages acknowledged on this connection: a cut may lose their PUBACKs. */
  #recent: (Entry | undefined)[] = [];
  #recentAt = 0;
  /** Lets the connection read its next packet, once the window has room. */
  #resume: (() => void) | null = null;
  #retry: ReturnType<typeof setTimeout> | null = null;
  #closed = false;
  #waiters: (() => void)[] = [];
  /** The payload bytes of the messages in the window. */
  #bytes = 0;
  readonly #maxBytes: number;
  /** The most messages the window held at once. */
  peak = 0;

  constructor(opts: AckWindowOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new RangeError(
        `Cannot make the acknowledgement window: size must be an integer of at least 1: ` +
          `current value is ${opts.size}`,
      );
    }
    this.#opts = opts;
    this.#maxBytes = opts.maxBytes ?? Infinity;
  }

  /** Messages in the window: being taken, or taken and waiting for an earlier one. */
  get length(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * A message read from the connection. `take` hands it to the sink (not
   * called for a copy of a message already taken); `next` lets the
   * connection read its next packet: at once while the window has room, else
   * once the oldest message is acknowledged.
   */
  add(message: WindowMessage, take: () => Outcome, next: () => void): void {
    const earlier = message.id === 0 ? undefined : this.#unacked.get(message.id);
    let outcome: Outcome;
    if (
      message.dup && earlier !== undefined && earlier.connection !== this.#connection &&
      sameMessage(earlier.message, message)
    ) {
      outcome = this.#again(earlier, message, take);
    } else {
      outcome = take();
    }
    const entry: Entry = { message, take, connection: this.#connection, outcome, ok: null };
    if (message.id !== 0) this.#unacked.set(message.id, entry);
    this.#entries.push(entry);
    this.#bytes += message.payload.length;
    this.peak = Math.max(this.peak, this.length);
    this.#settle(entry);
    this.#flush();
    if (this.#hasRoom()) next();
    else this.#resume = next;
  }

  /**
   * The connection ended: its messages not acknowledged yet will not be on
   * it. With `sessionLost` (the broker kept no session), no copy of them
   * will come either.
   */
  reset(sessionLost = false): void {
    this.#connection++;
    // the broker sends them again if their PUBACKs were still in the socket's buffers
    for (const e of this.#recent) {
      if (e !== undefined && !this.#unacked.has(e.message.id)) this.#unacked.set(e.message.id, e);
    }
    this.#recent = [];
    this.#entries = [];
    this.#head = 0;
    this.#bytes = 0;
    this.#resume = null;
    this.#stopRetry();
    if (sessionLost) this.#unacked.clear();
    this.#wake();
  }

  /** Hands nothing to the sink again (shutting down): what it did not take stays unacknowledged. */
  close(): void {
    this.#closed = true;
    this.#stopRetry();
  }

  /** Resolves once no message of the window is still being taken (every one taken is acknowledged). */
  settled(): Promise<void> {
    if (this.#isSettled()) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** A copy sent again of `earlier`, of a previous connection: taken once only. */
  #again(earlier: Entry, message: WindowMessage, take: () => Outcome): Outcome {
    const once = (ok: boolean): Outcome => {
      if (!ok) return take();
      this.#opts.duplicate?.(message);
      return true;
    };
    return earlier.ok !== null ? once(earlier.ok) : Promise.resolve(earlier.outcome).then(once);
  }

  #flush(): void {
    const ids: number[] = [];
    const entries = this.#entries;
    while (this.#head < entries.length) {
      const e = entries[this.#head];
      if (e.ok === null) break;
      if (!e.ok) {
        if (this.#retry === null && !this.#closed) {
          this.#retry = setTimeout(() => this.#takeAgain(), this.#opts.retryMs);
          this.#opts.notTaken?.();
        }
        break;
      }
      entries[this.#head++] = undefined as unknown as Entry;
      this.#bytes -= e.message.payload.length;
      const id = e.message.id;
      if (id !== 0) {
        ids.push(id);
        if (this.#unacked.get(id) === e) this.#unacked.delete(id);
        this.#recent[this.#recentAt++ % this.#opts.size] = e;
      }
    }
    if (this.#head === entries.length) {
      this.#entries = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > entries.length) {
      this.#entries = entries.slice(this.#head);
      this.#head = 0;
    }
    if (ids.length > 0) this.#opts.acknowledge(ids);
    if (this.#resume !== null && this.#hasRoom()) {
      const resume = this.#resume;
      this.#resume = null;
      resume();
    }
    this.#wake();
  }

  /** Sets `entry.ok` once its outcome settles, and acknowledges what can be then. */
  #settle(entry: Entry): void {
    const outcome = entry.outcome;
    if (typeof outcome === "boolean") {
      entry.ok = outcome;
      return;
    }
    const connection = this.#connection;
    outcome.then((ok) => {
      if (entry.outcome !== outcome) return;
      entry.ok = ok;
      if (entry.connection === connection && connection === this.#connection) this.#flush();
    });
  }

  /** Hands the messages the sink did not take to it again, in the order they came. */
  #takeAgain(): void {
    this.#retry = null;
    for (let i = this.#head; i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (e.ok !== false) continue;
      e.ok = null;
      e.outcome = e.take();
      this.#settle(e);
    }
    this.#flush();
  }

  /** True while another message may be read: fewer than `size`, fewer bytes than `maxBytes`. */
  #hasRoom(): boolean {
    return this.length < this.#opts.size && this.#bytes < this.#maxBytes;
  }

  #stopRetry(): void {
    if (this.#retry !== null) clearTimeout(this.#retry);
    this.#retry = null;
  }

  #isSettled(): boolean {
    for (let i = this.#head; i < this.#entries.length; i++) {
      if (this.#entries[i].ok === null) return false;
    }
    return true;
  }

  #wake(): void {
    if (this.#waiters.length === 0 || !this.#isSettled()) return;
    for (const w of this.#waiters.splice(0)) w();
  }
}

/** The same topic and payload: a copy the broker sent again. */
function sameMessage(a: WindowMessage, b: WindowMessage): boolean {
  if (a.topic !== b.topic || a.payload.length !== b.payload.length) return false;
  for (let i = 0; i < a.payload.length; i++) if (a.payload[i] !== b.payload[i]) return false;
  return true;
}
