/**
 * Secrets out of what forecastd shows of its configuration (error messages,
 * `--print-config`): the fields the schema marks secret, any field whose
 * name looks like it holds one when the schema does not know it, and the
 * password inside any URL.
 */
import type { z } from "zod";
import { MASK, maskUrlPassword } from "../domain/mask_url_password.ts";
import { arrayElement, configMeta, fieldOf } from "./config_meta.ts";

/** Names that look like they hold a secret: unknown options so named are masked too. */
export const SECRET_NAME = /pas|pwd|secret|token|key/i;

/**
 * `value` with its secrets shown as ********. `schema` is the value's field
 * in the configuration schema, or null where the value is not one of its
 * fields (an unknown key): then names decide.
 */
export function maskSecrets(value: unknown, schema: z.ZodType | null): unknown {
  if (value === null || value === undefined) return value;
  if (schema !== null && configMeta.get(schema)?.secret) {
    // a secret list shows how many it holds (an empty one reads back as itself)
    return Array.isArray(value) ? value.map(() => MASK) : MASK;
  }
  if (typeof value === "string") return maskUrlPassword(value);
  if (Array.isArray(value)) {
    const element = schema && arrayElement(schema);
    return value.map((x) => maskSecrets(x, element));
  }
  if (typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, x]) => {
        const field = schema && fieldOf(schema, k);
        if (field === null && x != null && SECRET_NAME.test(k)) return [k, MASK];
        return [k, maskSecrets(x, field)];
      }),
    );
  }
  return value;
}
