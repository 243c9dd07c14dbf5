/**
 * Streams as the API shows them: the service's data turned into the JSON of
 * each response body. Times become RFC 3339 strings in UTC and numbers that
 * are not known yet (NaN) become null.
 */
import type { Crossing, StreamForecast, StreamSummary } from "../service/service.ts";

/** `ms` as an RFC 3339 time in UTC, or null when it is not a finite number. */
export function isoOrNull(ms: number | null): string | null {
  return ms !== null && Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** `v`, or null when it is not a finite number (not scored yet). */
export function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/** A stream summary as JSON. */
export function streamSummaryJson(s: StreamSummary) {
  return {
    ...s,
    horizons: s.horizons.map((h) => ({
      horizon: h.horizon,
      scored: h.scored,
      skill: finiteOrNull(h.skill),
      skillByExpert: Object.fromEntries(
        Object.entries(h.skillByExpert).map(([k, v]) => [k, finiteOrNull(v)]),
      ),
      coverage: finiteOrNull(h.coverage),
    })),
  };
}

/** A forecast as JSON. */
export function forecastJson(f: StreamForecast) {
  return {
    ...f,
    origin: new Date(f.origin).toISOString(),
    timestamps: f.timestamps.map(isoOrNull),
    model: { ...f.model, updatedAt: isoOrNull(f.model.updatedAt) },
  };
}

/** A crossing as JSON. */
export function crossingJson(c: Crossing) {
  return {
    ...c,
    origin: new Date(c.origin).toISOString(),
    horizonEnd: isoOrNull(c.horizonEnd),
    crossing: isoOrNull(c.crossing),
    earliest: isoOrNull(c.earliest),
    latest: isoOrNull(c.latest),
  };
}
