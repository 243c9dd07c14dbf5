/**
 * Home Assistant's rules for a device-based discovery message, as its MQTT
 * integration checks them (docs: https://www.home-assistant.io/integrations/mqtt/
 * "Device discovery payload"; code: homeassistant/components/mqtt/discovery.py
 * TOPIC_MATCHER and schemas.py DEVICE_DISCOVERY_SCHEMA), written out so a
 * test can hold forecastd's messages to them:
 *
 * - the topic is `<prefix>/device/<object_id>/config` with the object id of
 *   `[a-zA-Z0-9_-]`;
 * - the payload is a JSON object whose root holds only the device (`dev`),
 *   the origin (`o`, with a `name`), the components (`cmps`) and the shared
 *   options (availability, `state_topic`, `command_topic`, `qos`,
 *   `encoding`): other root keys are refused;
 * - the device has at least one identifier (`ids`) or connection;
 * - each component has a platform (`p`) and, for an entity, a `unique_id`;
 *   forecastd also keeps its component ids and unique ids to `[a-zA-Z0-9_-]`.
 *
 * Keys may be abbreviated (`dev`, `o`, `cmps`, `p`, `avty_t`, ...);
 * discovery.py expands them before checking, and so does this.
 */

const ID = /^[a-zA-Z0-9_-]+$/;

/** Root keys and their abbreviations (abbreviations.py), the shared options of DEVICE_DISCOVERY_SCHEMA. */
const ROOT: Record<string, string> = {
  dev: "device",
  device: "device",
  o: "origin",
  origin: "origin",
  cmps: "components",
  components: "components",
  avty: "availability",
  availability: "availability",
  avty_mode: "availability_mode",
  availability_mode: "availability_mode",
  avty_tpl: "availability_template",
  availability_template: "availability_template",
  avty_t: "availability_topic",
  availability_topic: "availability_topic",
  pl_avail: "payload_available",
  payload_available: "payload_available",
  pl_not_avail: "payload_not_available",
  payload_not_available: "payload_not_available",
  stat_t: "state_topic",
  state_topic: "state_topic",
  cmd_t: "command_topic",
  command_topic: "command_topic",
  qos: "qos",
  e: "encoding",
  encoding: "encoding",
};

/** The entity platforms forecastd may use (a subset of SUPPORTED_COMPONENTS). */
const PLATFORMS = new Set(["sensor", "binary_sensor"]);

/** A topic a client may publish to: not empty, no wildcards, no U+0000. */
function publishTopic(t: unknown): boolean {
  return typeof t === "string" && t !== "" && !/[+#]/.test(t) && !t.includes("\0");
}

/**
 * What is wrong with a device-based discovery message (topic and payload
 * text) under `prefix`, as a list of problems; [] when nothing is. An empty
 * payload (a removal) is valid.
 */
export function discoveryProblems(prefix: string, topic: string, payload: string): string[] {
  const problems: string[] = [];
  const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`^${esc}/device/([^/]+)/config$`).exec(topic);
  if (!m) return [`topic ${topic} is not ${prefix}/device/<object_id>/config`];
  if (!ID.test(m[1])) problems.push(`object id ${m[1]} is not of [a-zA-Z0-9_-]`);
  if (payload === "") return problems;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(payload);
  } catch (e) {
    return [...problems, `payload is not JSON: ${e}`];
  }
  if (config === null || typeof config !== "object" || Array.isArray(config)) {
    return [...problems, "payload is not a JSON object"];
  }
  const full: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (!(k in ROOT)) problems.push(`root key ${k} is not allowed`);
    else full[ROOT[k]] = v;
  }
  const dev = full.device as Record<string, unknown> | undefined;
  if (!dev || typeof dev !== "object") problems.push("no device (dev)");
  else {
    const ids = dev.ids ?? dev.identifiers;
    const list = Array.isArray(ids) ? ids : ids === undefined ? [] : [ids];
    if (list.length === 0 && !(dev.cns ?? dev.connections)) problems.push("device has no ids");
    if (list.some((x) => typeof x !== "string")) problems.push("device ids are not strings");
  }
  const o = full.origin as Record<string, unknown> | undefined;
  if (!o || typeof o.name !== "string" || o.name === "") problems.push("no origin name (o.name)");
  for (const k of ["state_topic", "availability_topic", "command_topic"]) {
    if (k in full && !publishTopic(full[k])) problems.push(`${k} ${full[k]} is not a topic`);
  }
  if ("qos" in full && ![0, 1, 2].includes(full.qos as number)) problems.push("qos is not 0-2");
  const cmps = full.components as Record<string, Record<string, unknown>> | undefined;
  if (!cmps || typeof cmps !== "object" || Object.keys(cmps).length === 0) {
    problems.push("no components (cmps)");
    return problems;
  }
  const uniqueIds = new Set<string>();
  for (const [id, c] of Object.entries(cmps)) {
    if (!ID.test(id)) problems.push(`component id ${id} is not of [a-zA-Z0-9_-]`);
    const p = c.p ?? c.platform;
    if (typeof p !== "string" || !PLATFORMS.has(p)) problems.push(`${id}: platform ${p}`);
    const u = c.unique_id ?? c.uniq_id;
    if (typeof u !== "string" || !ID.test(u)) problems.push(`${id}: unique_id ${u}`);
    else if (uniqueIds.has(u)) problems.push(`${id}: unique_id ${u} repeated`);
    else uniqueIds.add(u);
    for (const k of ["state_topic", "stat_t", "json_attributes_topic", "json_attr_t"]) {
      if (k in c && !publishTopic(c[k])) problems.push(`${id}: ${k} is not a topic`);
    }
  }
  return problems;
}
