/**
 * The embedded broker reads a connection on while its PUBLISHes are still
 * being taken, within a bound across all connections.
 *
 * aedes reads a socket, parses every packet the read holds and handles them
 * side by side; it reads the socket again only once each of them is done,
 * and a PUBLISH is done once forecastd has taken its readings (the PUBACK
 * says so: docs/guarantees.md). With the streams on two workers, a
 * connection that carries streams of both (a gateway's, a bridge's, the
 * scale bench's) sends nothing more until the slower worker took its part
 * of the last read: the other worker, its part taken, waits with nothing to
 * do (about a tenth of its time in `bench/scale.ts --part=capacity`,
 * docs/scaling.md "the idle time of two workers"). Here a PUBLISH handed to
 * forecastd stops holding its connection's next read as soon as it is
 * handed over, while fewer than `messages` such PUBLISHes (and `bytes` of
 * their payloads) are still being taken; its PUBACK still waits until its
 * readings are taken. Beyond the bound a PUBLISH holds the read as before,
 * so what is read and not yet taken stays bounded: one read a connection,
 * and the bound in all.
 *
 * It works on aedes's count of the packets of a read still being handled
 * (`_parsingBatch`) and the function that reads on once it is 0
 * (`_nextBatch`), as aedes 1.2 has them; a client without them is left as
 * it is (tests/ingest/read_ahead_test.ts fails if aedes changes them).
 *
 * ```ts
 * const ahead = new ReadAhead();
 * const taken = onMessage(message); // the readings handed over
 * const before = ahead.release(client, payload.length);
 * taken.then((ok) => { before?.(); done(ok ? null : new Error("not taken")); });
 * ```
 */

/** Options of ReadAhead; every field has the default it names. */
export interface ReadAheadOptions {
  /**
   * PUBLISHes read past while still being taken, across all connections, at
   * most (0: none, aedes reads as it does alone). Default 1000.
   */
  messages?: number;
  /** Their payloads' bytes at most (one PUBLISH whatever its size). Default 16 MiB. */
  bytes?: number;
}

/** The defaults of ReadAheadOptions. */
export const READ_AHEAD_DEFAULTS = Object.freeze({ messages: 1000, bytes: 16 * 1024 * 1024 });

/** What is used of an aedes client: how it counts the packets of a read and reads on. */
interface ClientReading {
  /** Packets of the last read still being handled; the socket is read again at 0. */
  _parsingBatch: number;
  /** One packet done: the count down by one, and the socket read again at 0 (unless paused). */
  _nextBatch: () => void;
  /** While a CONNECT is handled, aedes reads nothing more. */
  _paused?: boolean;
}

/** The bound and its count; see the module comment. */
export class ReadAhead {
  readonly messages: number;
  readonly bytes: number;
  #messages = 0;
  #bytes = 0;

  constructor(options: ReadAheadOptions = {}) {
    this.messages = options.messages ?? READ_AHEAD_DEFAULTS.messages;
    this.bytes = options.bytes ?? READ_AHEAD_DEFAULTS.bytes;
    for (const [name, v] of [["messages", this.messages], ["bytes", this.bytes]] as const) {
      if (!Number.isSafeInteger(v) || v < 0) {
        throw new RangeError(
          `Cannot create the broker's read-ahead: ${name} must be a non-negative integer: current value is ${v}`,
        );
      }
    }
  }

  /** PUBLISHes read past and still being taken now, and their payloads' bytes. */
  get inFlight(): { messages: number; bytes: number } {
    return { messages: this.#messages, bytes: this.#bytes };
  }

  /**
   * A PUBLISH of `bytes` payload bytes of `client` was handed over and is
   * still being taken: when the bound has room, its connection may read on
   * (once the current read's packets are parsed) and this returns what to
   * call just before aedes is told the PUBLISH is done; else null (it holds
   * the next read until it is done, as aedes does alone).
   */
  release(client: unknown, bytes: number): (() => void) | null {
    const c = client as Partial<ClientReading> | null;
    if (
      c === null || typeof c._parsingBatch !== "number" || typeof c._nextBatch !== "function"
    ) return null;
    if (this.#messages >= this.messages) return null;
    if (this.#messages > 0 && this.#bytes + bytes > this.bytes) return null;
    this.#messages++;
    this.#bytes += bytes;
    const reading = c as ClientReading;
    /** Whether this packet stopped holding the read (aedes paused: it holds it as before). */
    let released = false;
    // after the packets of the current read are parsed (aedes's parser is not re-entrant)
    queueMicrotask(() => {
      if (reading._paused) return;
      released = true;
      reading._parsingBatch--;
      if (reading._parsingBatch <= 0) {
        // _nextBatch counts one packet done: from 1 to 0, then it reads the socket
        reading._parsingBatch = 1;
        reading._nextBatch();
      }
    });
    return () => {
      this.#messages--;
      this.#bytes -= bytes;
      // aedes counts this packet done once more when told (unless paused): counted back first
      if (released && !reading._paused) reading._parsingBatch++;
    };
  }
}
