/**
 * The last refusals of each source, kept in memory for `GET /v1/rejects`:
 * what a device publishing over MQTT, which has no reply channel, can be
 * told of its refused readings. Per source a ring of the newest
 * `capacity` refusals (time, stream, reason, message, MQTT topic; long
 * messages and topics cut); the counters by reason are kept apart
 * (`Service.rejects()`). Nothing is persisted: after a restart the lists
 * start empty.
 */

/** A refusal as kept. */
export interface RejectEntry {
  /** When it was refused, ms since the epoch. */
  time: number;
  /** Where the message came from (`mqtt`, `http`, `ws`, `demo`). */
  source: string;
  /** The stream it named, or null when it named none or could not be read that far. */
  stream: string | null;
  /** The reason, as the counters name it (`bad_json`, `out_of_order`, ...). */
  reason: string;
  /** What was wrong: `Cannot ingest reading: ...`. */
  message: string;
  /** The MQTT topic it was published to, for MQTT. */
  topic?: string;
}

/** Options of RecentRejects; every field has the default it names. */
export interface RecentRejectsOptions {
  /** Refusals kept per source: the oldest is dropped past it. Default 20. */
  capacity?: number;
}

/** The default capacity per source. */
export const RECENT_REJECTS_CAPACITY = 20;

/** Messages are cut to this many characters (a message quotes the value it refused). */
export const MAX_REJECT_MESSAGE = 1000;

/** Topics are cut to this many characters (MQTT allows 65,535 bytes). */
export const MAX_REJECT_TOPIC = 256;

/** `s`, cut to `max` characters with an ellipsis. */
function cut(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

interface Ring {
  entries: RejectEntry[];
  /** Index of the next entry to write once the ring is full. */
  next: number;
}

/** The last refusals of every source. */
export class RecentRejects {
  readonly capacity: number;
  readonly #rings = new Map<string, Ring>();

  constructor(options: RecentRejectsOptions = {}) {
    const capacity = options.capacity ?? RECENT_REJECTS_CAPACITY;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot keep recent refusals: capacity must be a positive integer: current value is ${capacity}`,
      );
    }
    this.capacity = capacity;
  }

  /** Keeps `entry` as the newest refusal of its source. */
  record(entry: RejectEntry): void {
    const kept: RejectEntry = { ...entry, message: cut(entry.message, MAX_REJECT_MESSAGE) };
    if (entry.topic !== undefined) kept.topic = cut(entry.topic, MAX_REJECT_TOPIC);
    let ring = this.#rings.get(entry.source);
    if (!ring) this.#rings.set(entry.source, ring = { entries: [], next: 0 });
    if (ring.entries.length < this.capacity) {
      ring.entries.push(kept);
      return;
    }
    ring.entries[ring.next] = kept;
    ring.next = (ring.next + 1) % this.capacity;
  }

  /** The kept refusals of `source`, newest first (none for a source that refused nothing). */
  list(source: string): RejectEntry[] {
    const ring = this.#rings.get(source);
    if (!ring) return [];
    const { entries, next } = ring;
    // oldest first is entries[next..] then entries[..next]
    return [...entries.slice(next), ...entries.slice(0, next)].reverse();
  }

  /** The sources that refused something, sorted. */
  sources(): string[] {
    return [...this.#rings.keys()].sort();
  }
}
