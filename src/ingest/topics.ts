/**
 * MQTT topic patterns: which topics carry readings, and which stream and
 * value a topic names.
 *
 * A pattern is an MQTT topic whose levels are each one of:
 *
 * - literal text (no `+`, `#`, `{` or `}`), matched exactly
 * - `{stream}`: this level is the stream id (at most once)
 * - `{value}`: this level is the value name (at most once)
 * - `+`: any one level, ignored
 * - `#`: any number of further levels, ignored (last level only)
 *
 * A shared subscription (`$share/GROUP/...`, EMQX's `$queue/...`) is refused:
 * it splits one stream's readings over the group's members.
 *
 * `sensors/{stream}/{value}` matches `sensors/kitchen/temperature` as stream
 * "kitchen", value "temperature"; `sensors/{stream}` matches `sensors/kitchen`
 * and the payload names the values. A pattern without `{stream}` leaves the
 * stream to the payload (`"stream"` field or SenML `bn`).
 *
 * The pattern's subscription filter replaces each placeholder with `+`
 * (`sensors/+/+`), and a topic matches a pattern exactly when it matches that
 * filter under MQTT's rules, including that a wildcard in the first level
 * does not match topics starting with `$` (`$SYS/...`). The first pattern in
 * the configured order that matches a topic wins.
 */

/** One level of a compiled pattern. */
type Level =
  | { kind: "literal"; text: string }
  | { kind: "stream" }
  | { kind: "value" }
  | { kind: "any" }
  | { kind: "rest" };

/** A checked pattern, ready to match topics. */
export interface TopicPattern {
  /** As configured, e.g. `sensors/{stream}/{value}`. */
  readonly pattern: string;
  /** The MQTT subscription filter, e.g. `sensors/+/+`. */
  readonly filter: string;
  /** True when the topic names the stream. */
  readonly hasStream: boolean;
  /** True when the topic names the value. */
  readonly hasValue: boolean;
  readonly levels: readonly Level[];
}

/** What a topic says: its pattern, and the stream and value it names (null when it does not). */
export interface TopicMatch {
  readonly pattern: TopicPattern;
  readonly stream: string | null;
  readonly value: string | null;
}

/** What a pattern's levels must be, as stated in error messages. */
export const TOPIC_PATTERN_RULE =
  "must be an MQTT topic pattern whose levels are text, {stream}, {value}, + or a final #";

/** Why `pattern` is not a valid topic pattern, or null when it is. */
export function topicPatternProblem(pattern: string): string | null {
  if (typeof pattern !== "string" || pattern === "") return `${TOPIC_PATTERN_RULE}, not empty`;
  if (pattern.includes("\u0000")) return `${TOPIC_PATTERN_RULE}, without NUL characters`;
  const parts = pattern.split("/");
  if (parts[0] === "$share" || parts[0] === "$queue") {
    return `${TOPIC_PATTERN_RULE}, not a shared subscription (${parts[0]}/...): the broker ` +
      "would hand each message to one member of the group in turn, splitting a stream's " +
      "readings over several forecastd; split streams with --shard (docs/clustering.md)";
  }
  let streams = 0, values = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    if (p === "{stream}") streams++;
    else if (p === "{value}") values++;
    else if (p === "#") {
      if (i !== parts.length - 1) return `${TOPIC_PATTERN_RULE}: "#" must be the last level`;
    } else if (p !== "+" && /[+#{}]/.test(p)) {
      return `${TOPIC_PATTERN_RULE}: level ${i + 1} ("${p}") mixes a wildcard or ` +
        `placeholder with text; a placeholder fills a whole level`;
    }
  }
  if (streams > 1) return `${TOPIC_PATTERN_RULE}: {stream} may appear once`;
  if (values > 1) return `${TOPIC_PATTERN_RULE}: {value} may appear once`;
  return null;
}

/** Checks and compiles a pattern; throws a RangeError naming the problem. */
export function compileTopicPattern(pattern: string): TopicPattern {
  const problem = topicPatternProblem(pattern);
  if (problem !== null) {
    throw new RangeError(
      `Cannot use topic pattern: ${problem}: current value is ${JSON.stringify(pattern)}`,
    );
  }
  const levels: Level[] = pattern.split("/").map((p): Level =>
    p === "{stream}"
      ? { kind: "stream" }
      : p === "{value}"
      ? { kind: "value" }
      : p === "+"
      ? { kind: "any" }
      : p === "#"
      ? { kind: "rest" }
      : { kind: "literal", text: p }
  );
  const filter = levels.map((l) => l.kind === "literal" ? l.text : l.kind === "rest" ? "#" : "+")
    .join("/");
  return {
    pattern,
    filter,
    hasStream: levels.some((l) => l.kind === "stream"),
    hasValue: levels.some((l) => l.kind === "value"),
    levels,
  };
}

/** Compiles every pattern (see compileTopicPattern). */
export function compileTopicPatterns(patterns: readonly string[]): TopicPattern[] {
  return patterns.map(compileTopicPattern);
}

/** The subscription filters of `patterns`, without duplicates, in order. */
export function subscriptionFilters(patterns: readonly TopicPattern[]): string[] {
  return [...new Set(patterns.map((p) => p.filter))];
}

/**
 * What `topic` names under `pattern`, or null when it does not match. The
 * captured stream and value are returned as they are; the parser checks them.
 */
export function matchTopicPattern(pattern: TopicPattern, topic: string): TopicMatch | null {
  const { levels } = pattern;
  let stream: string | null = null, value: string | null = null;
  // MQTT: a filter starting with a wildcard does not match topics starting with "$".
  if (topic.charCodeAt(0) === 36 && levels[0].kind !== "literal") return null;
  // the topic's levels walked in place, without an array a message: `from` is where the current
  // level starts, -1 once the topic has no more levels
  let from = 0;
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i];
    if (level.kind === "rest") return { pattern, stream, value }; // "#" also matches the parent
    if (from < 0) return null;
    const slash = topic.indexOf("/", from);
    const end = slash < 0 ? topic.length : slash;
    switch (level.kind) {
      case "literal":
        if (end - from !== level.text.length || !topic.startsWith(level.text, from)) return null;
        break;
      case "stream":
        stream = topic.slice(from, end);
        break;
      case "value":
        value = topic.slice(from, end);
        break;
      case "any":
        break;
    }
    from = slash < 0 ? -1 : slash + 1;
  }
  return from < 0 ? { pattern, stream, value } : null;
}

/**
 * The first of `patterns` that matches `topic`, or null. The last answer is
 * kept: the embedded broker's filter and the parser ask about each message's
 * topic in turn, and get the same (unchanged) match object.
 */
export function matchTopic(patterns: readonly TopicPattern[], topic: string): TopicMatch | null {
  if (patterns === last.patterns && topic === last.topic) return last.match;
  let match: TopicMatch | null = null;
  for (const p of patterns) {
    match = matchTopicPattern(p, topic);
    if (match) break;
  }
  last.patterns = patterns;
  last.topic = topic;
  last.match = match;
  return match;
}

/** matchTopic()'s last question and answer. */
const last: {
  patterns: readonly TopicPattern[] | null;
  topic: string;
  match: TopicMatch | null;
} = { patterns: null, topic: "", match: null };
