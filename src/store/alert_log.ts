/**
 * The alert history in Deno KV: append-only events with increasing ids,
 * listed with filters, updated in place (acknowledged), pruned by count and
 * age.
 *
 * Ids come from a counter in KV (`alert_seq`), bumped in the same commit that
 * writes the event (with a versionstamp check, so two writers never get the
 * same id): 1, 2, 3, ... as 16 zero-padded digits, so KV key order, string
 * order and numeric order agree and an SSE client's `Last-Event-ID` is a
 * position to resume after. Ids do not depend on the wall clock, which a
 * gateway without a real-time clock may get wrong at boot.
 *
 * Retention: `append()` keeps at most `maxEvents` by deleting, in the same
 * commit, the event that falls out of the window (id n - maxEvents): no read
 * needed. `prune()` applies both limits in full (after a limit was lowered,
 * and for `maxAgeMs`); it walks from the oldest id and stops at the first
 * event young enough, so an event appended with an old `time` after newer
 * ones waits for those to go.
 */
import { CommitBatcher, type CommitLimits, type Op, valueBytes } from "./commit_batcher.ts";
import { showValue } from "../domain/show_value.ts";
import {
  alertKey,
  alertSeqKey,
  alertsPrefix,
  formatAlertId,
  validateAlertId,
  validateStreamId,
} from "./keys.ts";
import { SerialQueue } from "./serial_queue.ts";
import type { AlertFilter } from "../domain/alert_filter.ts";

/** An alert as the caller hands it in: any JSON fields besides these. */
export interface AlertInput {
  /** The stream it concerns. */
  stream: string;
  /** When it happened, ms since the epoch. */
  time: number;
  /** Lifecycle state, e.g. "open", "acknowledged", "resolved". Default "open". */
  state?: string;
  [field: string]: unknown;
}

/** A stored alert. */
export interface AlertRecord {
  /** Assigned by the store: 16 digits, increasing. */
  id: string;
  stream: string;
  time: number;
  state: string;
  [field: string]: unknown;
}

export type { AlertFilter };

/** How much alert history to keep. `Infinity` switches a limit off. */
export interface AlertRetention {
  /** Keep at most this many events. Default 10,000. */
  maxEvents: number;
  /** Drop events whose `time` is older than this, in ms. Default 30 days. */
  maxAgeMs: number;
}

/** What `prune()` did. */
export interface PruneResult {
  deleted: number;
  commits: number;
}

/** Settings an AlertLog runs with (resolved, no defaults left). */
export interface AlertLogSettings {
  now: () => number;
  alertRetention: AlertRetention;
  commitLimits: CommitLimits;
}

const WRITE_ATTEMPTS = 20;
/** The first wait before a write that lost a race is tried again, ms; it doubles per attempt. */
const BACKOFF_BASE_MS = 1;
/** The longest wait before a retry, ms. */
const BACKOFF_CAP_MS = 100;

/**
 * Waits before attempt `attempt + 1` of a write that lost the race to another
 * writer: a random time up to `BACKOFF_BASE_MS * 2^(attempt - 1)`, capped
 * ("full jitter"). Writers that collided spread out more each time, so a
 * writer with a long queue cannot keep winning against one that retries at
 * once (two stores on one KV starved each other within 20 tries).
 */
function backOff(attempt: number): Promise<void> {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return new Promise((r) => setTimeout(r, Math.random() * ceiling));
}

/** Throws unless `r` holds valid retention limits. */
export function validateRetention(r: AlertRetention, action: string): void {
  for (const field of ["maxEvents", "maxAgeMs"] as const) {
    const v = r[field];
    const ok = typeof v === "number" &&
      (v === Infinity || (field === "maxEvents" ? Number.isSafeInteger(v) && v >= 1 : v > 0));
    if (!ok) {
      throw new RangeError(
        `Cannot ${action}: ${field} must be ${
          field === "maxEvents" ? "a positive integer" : "a positive number"
        } or Infinity: current value is ${showValue(v)}`,
      );
    }
  }
}

function checkFields(
  e: Record<string, unknown>,
  action: string,
  required: boolean,
): void {
  if (required || "stream" in e) validateStreamId(e.stream, action, "'stream'");
  if (required || "time" in e) {
    if (typeof e.time !== "number" || !Number.isFinite(e.time)) {
      throw new TypeError(
        `Cannot ${action}: 'time' must be a finite number (ms since the epoch): current value is ${
          showValue(e.time)
        }`,
      );
    }
  }
  if ("state" in e && e.state !== undefined && (typeof e.state !== "string" || e.state === "")) {
    throw new TypeError(
      `Cannot ${action}: 'state' must be a non-empty string: current value is ${
        showValue(e.state)
      }`,
    );
  }
}

function checkSize(event: AlertRecord, action: string, limits: CommitLimits): void {
  const size = valueBytes(event);
  if (size > limits.maxValueBytes) {
    throw new RangeError(
      `Cannot ${action}: an alert must serialise to at most ${limits.maxValueBytes} bytes: current size is ${size}`,
    );
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Alert history; `Store` is the public face. */
export class AlertLog {
  #appends = new SerialQueue();

  constructor(readonly kv: Deno.Kv, readonly settings: AlertLogSettings) {}

  /** Stores an alert under the next id and returns it as stored. */
  async append(input: AlertInput): Promise<AlertRecord> {
    return (await this.appendMany([input]))[0];
  }

  /**
   * Stores alerts under the next ids, in order, and returns them as stored.
   * They share commits up to the commit limits: each commit checks the id
   * counter, sets it past its alerts, writes them, and deletes the events
   * that fall out of the `maxEvents` window. Every alert is checked before
   * anything is written.
   */
  async appendMany(inputs: readonly AlertInput[]): Promise<AlertRecord[]> {
    const action = "append alert";
    if (!Array.isArray(inputs)) {
      throw new TypeError(
        `Cannot ${action}s: they must be an array: current value is ${showValue(inputs)}`,
      );
    }
    const bases = inputs.map((input: AlertInput): Omit<AlertRecord, "id"> => {
      if (!isObject(input)) {
        throw new TypeError(
          `Cannot ${action}: it must be an object: current value is ${showValue(input)}`,
        );
      }
      if ("id" in input) {
        throw new TypeError(
          `Cannot ${action}: 'id' is assigned by the store and must be absent: current value is ${
            showValue(input.id)
          }`,
        );
      }
      checkFields(input, action, true);
      const base = { ...input, state: input.state ?? "open" };
      checkSize(
        { ...base, id: formatAlertId(1) } as AlertRecord,
        action,
        this.settings.commitLimits,
      );
      return base;
    });
    if (bases.length === 0) return [];
    return await this.#appends.run(async () => {
      const out: AlertRecord[] = [];
      while (out.length < bases.length) {
        out.push(...await this.#commitSome(bases.slice(out.length)));
      }
      return out;
    });
  }

  /**
   * Commits as many of `bases` (from the first) as fit one commit; returns
   * them as stored. What fits is worked out before the counter is read (an
   * id always has 16 digits, so an event's size does not depend on it), so
   * the read and the commit are close together; a commit that loses the
   * race to another writer is tried again after a random wait that grows
   * with each attempt (`backOff`).
   */
  async #commitSome(bases: Omit<AlertRecord, "id">[]): Promise<AlertRecord[]> {
    const { maxEvents } = this.settings.alertRetention;
    const batcher = new CommitBatcher(this.kv, this.settings.commitLimits);
    const someId = formatAlertId(1);
    // the check of the counter and its set, then per alert its set and the delete it may bring
    const used = batcher.cost([
      { type: "check", key: alertSeqKey(), versionstamp: null },
      { type: "set", key: alertSeqKey(), value: 1 },
    ]);
    let count = 0;
    for (const base of bases) {
      const add: Op[] = [{ type: "set", key: alertKey(someId), value: { ...base, id: someId } }];
      if (maxEvents !== Infinity) add.push({ type: "delete", key: alertKey(someId) });
      const cost = batcher.cost(add);
      if (count > 0 && !batcher.fits(cost, used)) break;
      used.mutations += cost.mutations;
      used.checks += cost.checks;
      used.payload += cost.payload;
      used.setKeys += cost.setKeys;
      count++;
    }
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const seq = await this.kv.get<number>(alertSeqKey());
      const first = (typeof seq.value === "number" ? seq.value : 0) + 1;
      const events: AlertRecord[] = [];
      const op = this.kv.atomic().check(seq).set(alertSeqKey(), first + count - 1);
      for (let k = 0; k < count; k++) {
        const n = first + k;
        const event = { ...bases[k], id: formatAlertId(n) } as AlertRecord;
        op.set(alertKey(event.id), event);
        if (n > maxEvents) op.delete(alertKey(formatAlertId(n - maxEvents)));
        events.push(event);
      }
      if ((await op.commit()).ok) return events;
      await backOff(attempt);
    }
    throw new Error(
      `Cannot append alert: the id counter must stay unchanged for one read-and-write: another writer changed it ${WRITE_ATTEMPTS} times in a row`,
    );
  }

  /** The alert with this id, or null. */
  async get(id: string): Promise<AlertRecord | null> {
    validateAlertId(id, "get alert");
    return (await this.kv.get<AlertRecord>(alertKey(id))).value;
  }

  /** Alerts matching every filter given, in id order (newest first with `reverse`). */
  async list(filter: AlertFilter = {}): Promise<AlertRecord[]> {
    const action = "list alerts";
    const { stream, state, since, until, after, before, limit = 100, reverse = false } = filter;
    if (stream !== undefined) validateStreamId(stream, action, "'stream'");
    if (state !== undefined && typeof state !== "string") {
      throw new TypeError(
        `Cannot ${action}: 'state' must be a string: current value is ${showValue(state)}`,
      );
    }
    for (const [name, v] of [["since", since], ["until", until]] as const) {
      if (v !== undefined && (typeof v !== "number" || Number.isNaN(v))) {
        throw new TypeError(
          `Cannot ${action}: '${name}' must be a number: current value is ${showValue(v)}`,
        );
      }
    }
    if (after !== undefined) validateAlertId(after, action);
    if (before !== undefined) validateAlertId(before, action);
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new RangeError(
        `Cannot ${action}: 'limit' must be a positive integer: current value is ${
          showValue(limit)
        }`,
      );
    }
    if (after !== undefined && before !== undefined && after >= before) return [];
    const prefix = alertsPrefix();
    const selector: Deno.KvListSelector = after !== undefined && before !== undefined
      ? { start: alertKey(after), end: alertKey(before) }
      : after !== undefined
      ? { prefix, start: alertKey(after) }
      : before !== undefined
      ? { prefix, end: alertKey(before) }
      : { prefix };
    const out: AlertRecord[] = [];
    const iter = this.kv.list<AlertRecord>(selector, {
      reverse,
      batchSize: Math.min(500, limit + 1),
    });
    for await (const { value: e } of iter) {
      if (e.id === after) continue; // `start` is inclusive
      if (stream !== undefined && e.stream !== stream) continue;
      if (state !== undefined && e.state !== state) continue;
      if (since !== undefined && !(e.time >= since)) continue;
      if (until !== undefined && !(e.time < until)) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Merges `patch` into the alert and returns it as stored, or null if there
   * is no such alert. The id cannot change.
   */
  async update(id: string, patch: Partial<AlertInput>): Promise<AlertRecord | null> {
    const action = "update alert";
    validateAlertId(id, action);
    if (!isObject(patch)) {
      throw new TypeError(
        `Cannot ${action}: the patch must be an object: current value is ${showValue(patch)}`,
      );
    }
    if ("id" in patch && patch.id !== id) {
      throw new TypeError(
        `Cannot ${action}: 'id' must stay ${JSON.stringify(id)}: current value is ${
          showValue(patch.id)
        }`,
      );
    }
    checkFields(patch, action, false);
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const entry = await this.kv.get<AlertRecord>(alertKey(id));
      if (entry.value === null) return null;
      const event: AlertRecord = { ...entry.value, ...patch, id } as AlertRecord;
      checkSize(event, action, this.settings.commitLimits);
      const res = await this.kv.atomic().check(entry).set(alertKey(id), event).commit();
      if (res.ok) return event;
      await backOff(attempt);
    }
    throw new Error(
      `Cannot ${action}: alert ${id} must stay unchanged for one read-and-write: another writer changed it ${WRITE_ATTEMPTS} times in a row`,
    );
  }

  /**
   * Sets `state: "acknowledged"` and `acknowledgedAt` (default: now), once:
   * an alert that has an `acknowledgedAt` is returned as it is, so a second
   * acknowledgement keeps the first one's time.
   */
  async acknowledge(id: string, at: number = this.settings.now()): Promise<AlertRecord | null> {
    const action = "acknowledge alert";
    validateAlertId(id, action);
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const entry = await this.kv.get<AlertRecord>(alertKey(id));
      if (entry.value === null) return null;
      if (entry.value.acknowledgedAt !== undefined) return entry.value;
      const event: AlertRecord = { ...entry.value, state: "acknowledged", acknowledgedAt: at };
      checkSize(event, action, this.settings.commitLimits);
      const res = await this.kv.atomic().check(entry).set(alertKey(id), event).commit();
      if (res.ok) return event;
      await backOff(attempt);
    }
    throw new Error(
      `Cannot ${action}: alert ${id} must stay unchanged for one read-and-write: another writer changed it ${WRITE_ATTEMPTS} times in a row`,
    );
  }

  /** Deletes events beyond the retention limits (default: the store's). */
  async prune(options: Partial<AlertRetention> = {}): Promise<PruneResult> {
    const r = { ...this.settings.alertRetention, ...options };
    validateRetention(r, "prune alerts");
    const batcher = new CommitBatcher(this.kv, this.settings.commitLimits);
    let deleted = 0;
    if (r.maxEvents !== Infinity) {
      const seq = await this.kv.get<number>(alertSeqKey());
      const cutoff = (typeof seq.value === "number" ? seq.value : 0) - r.maxEvents;
      if (cutoff >= 1) {
        const end = alertKey(formatAlertId(cutoff + 1));
        for await (const e of this.kv.list({ prefix: alertsPrefix(), end })) {
          await batcher.add({ ops: [{ type: "delete", key: e.key }] });
          deleted++;
        }
      }
      await batcher.flush();
    }
    if (r.maxAgeMs !== Infinity) {
      const oldest = this.settings.now() - r.maxAgeMs;
      for await (const e of this.kv.list<AlertRecord>({ prefix: alertsPrefix() })) {
        if (e.value.time >= oldest) break;
        await batcher.add({ ops: [{ type: "delete", key: e.key }] });
        deleted++;
      }
      await batcher.flush();
    }
    return { deleted, commits: batcher.commits };
  }
}
