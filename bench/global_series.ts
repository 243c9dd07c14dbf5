/**
 * The series of a Prometheus text page that are not per stream, for the
 * benches that read forecastd's counters from `/metrics` while they load it
 * (bench/scale.ts). At 10,000 streams the page has 120,000 per-stream series
 * (7 MB); splitting all of it into lines and keeping every series held the
 * bench's own thread, which publishes the readings, for a tenth of a second
 * or more at each read. Tested in tests/bench/global_series_test.ts.
 */

/** The series of Prometheus text `text` with no `stream` label (the first label), by name and labels. */
export function globalSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (let at = 0; at < text.length;) {
    let end = text.indexOf("\n", at);
    if (end < 0) end = text.length;
    // a per-stream series (`name{stream="..."...}`) is skipped without making a string of it
    const brace = text.indexOf("{", at);
    const perStream = brace >= 0 && brace < end && text.startsWith('stream="', brace + 1);
    if (text.charCodeAt(at) !== 35 /* # */ && end > at && !perStream) {
      const i = text.lastIndexOf(" ", end);
      out.set(text.slice(at, i), Number(text.slice(i + 1, end)));
    }
    at = end + 1;
  }
  return out;
}

/** Every series of `text`, each line split and parsed whole: the reference, and what it saves. */
export function everySeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}
