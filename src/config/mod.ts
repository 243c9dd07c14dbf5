/**
 * The daemon's configuration: one zod schema whose fields carry their flag,
 * variable and description (schema.ts), resolved from a JSON file,
 * FORECASTD_* variables and flags (resolve_config.ts), shown by `--help`,
 * `--print-config` and docs/configuration.md, all generated from the schema.
 */
export {
  type Config,
  configSchema,
  DEFAULT_CONFIG,
  type UserConfig,
  type Webhook,
} from "./schema.ts";
export { kvIsRemote, kvPath } from "./kv_path.ts";
export { type ConfigOption, type OptionKey, type OptionKind, OPTIONS } from "./options.ts";
export { resolveConfig, type ResolveConfigInput } from "./resolve_config.ts";
export {
  ConfigError,
  type ConfigProblem,
  type ConfigSource,
  formatProblem,
} from "./config_error.ts";
export { formatConfig } from "./format_config.ts";
export { type CommandFlag, formatOptionsHelp } from "./format_options_help.ts";
