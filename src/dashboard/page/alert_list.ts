/**
 * The page's alert feed: the alerts it has seen (the newest page of the
 * history, then each one the live feed sends), newest first, one entry per
 * id; an acknowledgement replaces the entry with the stored alert the API
 * answered with (or, made elsewhere, the one a poll of the open ones read). And each alert's context, target by target.
 */
import type { StoredAlert } from "./api_types.ts";

/** Alerts by id, newest first, at most `max`. */
export class AlertList {
  readonly max: number;
  readonly #byId = new Map<string, StoredAlert>();

  constructor(max = 200) {
    this.max = max;
  }

  /** Adds or replaces `alert`; returns false when it was already there unchanged. */
  put(alert: StoredAlert): boolean {
    const had = this.#byId.get(alert.id);
    if (had && JSON.stringify(had) === JSON.stringify(alert)) return false;
    this.#byId.set(alert.id, alert);
    if (this.#byId.size > this.max) {
      const oldest = [...this.#byId.keys()].sort()[0];
      this.#byId.delete(oldest);
    }
    return true;
  }

  get(id: string): StoredAlert | undefined {
    return this.#byId.get(id);
  }

  /** Newest first (ids are 16-digit strings: string order is id order). */
  items(): StoredAlert[] {
    return [...this.#byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /**
   * The ids of the newest `max` alerts that can still be acknowledged: what
   * the page asks about again to see an acknowledgement made elsewhere.
   */
  openIds(max: number): string[] {
    return this.items().filter(canAcknowledge).slice(0, max).map((a) => a.id);
  }

  /** The newest id, or null with none. */
  newestId(): string | null {
    let newest: string | null = null;
    for (const id of this.#byId.keys()) if (newest === null || id > newest) newest = id;
    return newest;
  }

  get size(): number {
    return this.#byId.size;
  }
}

/** A heading for an alert. */
export function alertTitle(a: StoredAlert): string {
  switch (a.type) {
    case "opened":
      return "Anomaly";
    case "resolved":
      return "Back to normal";
    case "new_normal":
      return "New normal";
    default:
      return String(a.type);
  }
}

/** Whether the acknowledge button applies: an opened alert not acknowledged yet. */
export function canAcknowledge(a: StoredAlert): boolean {
  return a.type === "opened" && a.state === "open";
}

/** One target of an alert's context. */
export interface ContextRow {
  target: string;
  value: number;
  forecast: number;
  lower: number;
  upper: number;
  /** The reading was outside the interval it was compared with. */
  outside: boolean;
}

/** The reading, forecast and interval of each target the alert was raised on. */
export function alertContext(a: StoredAlert): ContextRow[] {
  return Object.entries(a.targets ?? {}).map(([target, t]) => ({
    target,
    value: t.value,
    forecast: t.forecast,
    lower: t.lower,
    upper: t.upper,
    // bounds are null (NaN in JSON) before the intervals are calibrated
    outside: Number.isFinite(t.lower) && Number.isFinite(t.upper) &&
      (t.value < t.lower || t.value > t.upper),
  }));
}
