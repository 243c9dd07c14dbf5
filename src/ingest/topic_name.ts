/**
 * What the embedded broker takes as a topic name of a PUBLISH. MQTT allows
 * more than forecastd can use; these are refused before any subscriber sees
 * them:
 *
 * - malformed (the sender's connection is closed, as MQTT 3.1.1 §1.5.3
 *   requires): U+0000, or bytes that are not UTF-8. The MQTT parser decodes
 *   such bytes as U+FFFD, so a topic with U+FFFD is taken as malformed.
 * - refused (acknowledged, not delivered): an empty level (`sensors/`,
 *   `sensors//v`, `/x`), which names no stream, and `+` or `#`.
 */

/** Why a topic name is refused. */
export interface TopicNameProblem {
  /** True when the packet breaks MQTT itself (close the connection). */
  malformed: boolean;
  /** What is wrong, for the log. */
  message: string;
}

/** Why `topic` is refused as a PUBLISH topic, or null when it is taken. */
export function topicNameProblem(topic: string): TopicNameProblem | null {
  if (topic.includes("\u0000")) {
    return { malformed: true, message: "a topic must not contain U+0000" };
  }
  if (topic.includes("\uFFFD")) {
    return { malformed: true, message: "a topic must be valid UTF-8 (U+FFFD is taken as invalid)" };
  }
  if (topic === "") return { malformed: false, message: "a topic must not be empty" };
  // an empty level, without an array per message
  if (topic.startsWith("/") || topic.endsWith("/") || topic.includes("//")) {
    return { malformed: false, message: "a topic must not have an empty level" };
  }
  if (topic.includes("+") || topic.includes("#")) {
    return { malformed: false, message: "a topic name must not contain + or #" };
  }
  return null;
}
