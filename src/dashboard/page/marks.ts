/**
 * What the chart marks on its time axis from a stream's alerts: the
 * anomalies as spans (from the reading that began one to the reading that
 * ended it, or open), and each alert as a mark at its reading's time.
 */
import type { StoredAlert } from "./api_types.ts";

/** An anomaly: from its start (ms) to its end, or to now while it is open (`to` null). */
export interface Span {
  from: number;
  to: number | null;
}

/** An alert on the time axis. */
export interface Mark {
  id: string;
  ts: number;
  type: StoredAlert["type"];
}

/** The alerts of `stream`, oldest first. */
function ofStream(alerts: Iterable<StoredAlert>, stream: string): StoredAlert[] {
  return [...alerts].filter((a) => a.stream === stream).sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  );
}

/**
 * The anomalies of `stream`: an "opened" alert starts one at its `since`;
 * the next "resolved" or "new_normal" alert ends it at its reading.
 */
export function anomalySpans(alerts: Iterable<StoredAlert>, stream: string): Span[] {
  const spans: Span[] = [];
  let open: Span | null = null;
  for (const a of ofStream(alerts, stream)) {
    if (a.type === "opened") {
      if (open) open.to = a.ts; // a second opening without an end: the first ends there
      open = { from: a.since, to: null };
      spans.push(open);
    } else if (open) {
      open.to = a.ts;
      open = null;
    } else {
      // its opening is older than the alerts the page has: it began at `since`
      spans.push({ from: a.since, to: a.ts });
    }
  }
  return spans;
}

/** Every alert of `stream` as a mark, oldest first. */
export function alertMarks(alerts: Iterable<StoredAlert>, stream: string): Mark[] {
  return ofStream(alerts, stream).map((a) => ({ id: a.id, ts: a.ts, type: a.type }));
}
