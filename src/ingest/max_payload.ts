/** 1 MiB: the default payload limit of an MQTT message (embedded broker and source). */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
