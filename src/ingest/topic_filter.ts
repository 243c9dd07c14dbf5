/**
 * MQTT topic filter matching: `+` is one level (also an empty one), a final
 * `#` is any number of further levels (also none), and a filter starting with
 * a wildcard does not match a topic starting with `$` (MQTT 3.1.1 §4.7.2).
 */

/** True when `topic` matches `filter` under MQTT's rules. */
export function topicMatchesFilter(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** True when `topic` matches any of `filters`. */
export function topicMatchesAny(filters: readonly string[], topic: string): boolean {
  return filters.some((f) => topicMatchesFilter(f, topic));
}
