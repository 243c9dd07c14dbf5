/** The resolved configuration as `forecastd serve --print-config` prints it. */
import { maskSecrets } from "./mask_secrets.ts";
import { type Config, configSchema } from "./schema.ts";

/**
 * The configuration as JSON in the file's format (it reads back as a
 * configuration file), with every field the schema marks secret (the MQTT
 * password, webhook secrets) and any password inside a URL shown as ********.
 */
export function formatConfig(config: Config): string {
  return JSON.stringify(maskSecrets(config, configSchema), null, 2);
}
