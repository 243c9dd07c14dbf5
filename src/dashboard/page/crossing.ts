/**
 * "When will it cross X?": the threshold the user types, turned into the
 * query of `GET /v1/streams/{id}/crossing`, and its answer in words.
 */
import type { CrossingJson } from "./api_types.ts";
import { formatDuration, formatTime, formatValue, parseTime, type TimeFormat } from "./format.ts";

/** The crossing query, or why the text is not a threshold. */
export type CrossingInput =
  | { ok: true; threshold: number; direction: "above" | "below" }
  | { ok: false; error: string };

const DECIMAL = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/**
 * The threshold typed (a decimal number; a comma as decimal mark is taken)
 * and its direction: above when it is over the newest value, else below.
 */
export function crossingInput(text: string, latest: number | null): CrossingInput {
  const s = text.trim().replace(",", ".");
  if (s === "") return { ok: false, error: "Type a threshold" };
  const x = DECIMAL.test(s) ? Number(s) : NaN;
  if (!Number.isFinite(x)) {
    return {
      ok: false,
      error: `The threshold must be a number: current value is "${text.trim()}"`,
    };
  }
  const direction = latest !== null && Number.isFinite(latest) && x < latest ? "below" : "above";
  return { ok: true, threshold: x, direction };
}

/** The answer in words, times in the zone of `fmt`. */
export function describeCrossing(c: CrossingJson, fmt: TimeFormat = {}): string {
  const x = formatValue(c.threshold);
  const origin = parseTime(c.origin);
  const at = parseTime(c.crossing);
  const end = parseTime(c.horizonEnd);
  if (at === null) {
    return `Not expected to go ${c.direction} ${x} before ${formatTime(end, fmt)} ` +
      `(the end of the forecast); now ${formatValue(c.value)}`;
  }
  if (origin !== null && at <= origin) {
    return `Already ${c.direction} ${x}: now ${formatValue(c.value)}`;
  }
  const earliest = parseTime(c.earliest), latest = parseTime(c.latest);
  const range = `${formatTime(earliest ?? at, fmt)} to ${
    latest === null ? "after the forecast's end" : formatTime(latest, fmt)
  }`;
  return `Expected to go ${c.direction} ${x} at ${formatTime(at, fmt)}, ` +
    `in ${formatDuration(at - (origin ?? at))} after the latest reading ` +
    `(${Math.round(c.coverage * 100)}% interval: ${range})`;
}
