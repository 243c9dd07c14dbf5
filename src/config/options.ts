/**
 * Every option of the configuration, read off the schema: one per leaf of
 * Config (nested ones such as `alertRetention.maxEvents` included), in the
 * schema's order, after `--config` (the schema's own option). Resolving,
 * `--help` and docs/configuration.md all walk this list.
 */
import type { z } from "zod";
import { configMeta, isOptionMeta, objectShape, unwrapSchema, valueAt } from "./config_meta.ts";
import { type Config, configSchema, DEFAULT_CONFIG } from "./schema.ts";

/** A leaf of Config that an option sets. */
export type OptionKey =
  | Exclude<keyof Config, "alertRetention">
  | `alertRetention.${keyof Config["alertRetention"]}`;

/** How a flag's or variable's text becomes the option's value. */
export type OptionKind = "string" | "number" | "boolean" | "list";

/** One option: its spellings, default and meaning. */
export interface ConfigOption {
  /** The Config field (dotted for nested ones), or null for `--config` itself. */
  key: OptionKey | null;
  /** e.g. `--data-dir`. */
  flag: string;
  /** The flag's argument in help, e.g. `DIR`; "" for a boolean flag. */
  arg: string;
  /** e.g. `FORECASTD_DATA_DIR`. */
  env: string;
  /** The default, as text: `8080`, `unset` (null), `none` (an empty list). */
  default: string;
  description: string;
  /** Read from the field's type: number, boolean, list (array) or string. */
  kind: OptionKind;
  /** Masked in messages and in formatConfig. */
  secret: boolean;
  /** How one text item of a list becomes an element (the text itself unless the schema says). */
  item: (text: string) => unknown;
  /** The field's schema (the whole schema for `--config`). */
  schema: z.ZodType;
}

function kindOf(schema: z.ZodType): OptionKind {
  const type = unwrapSchema(schema).def.type;
  if (type === "number") return "number";
  if (type === "boolean") return "boolean";
  if (type === "array") return "list";
  return "string";
}

function showDefault(v: unknown): string {
  if (v === null) return "unset";
  if (Array.isArray(v)) return v.length === 0 ? "none" : v.join(", ");
  return String(v);
}

function listOptions(): ConfigOption[] {
  const root = configMeta.get(configSchema);
  if (!isOptionMeta(root)) {
    throw new Error(
      `Cannot list the options: the schema must carry the --config option in configMeta: ` +
        `current value is ${JSON.stringify(root)}`,
    );
  }
  const out: ConfigOption[] = [{
    ...root,
    key: null,
    default: "none",
    kind: "string",
    secret: false,
    item: (t) => t,
    schema: configSchema,
  }];
  const walk = (shape: Record<string, z.ZodType>, prefix: string) => {
    for (const [name, schema] of Object.entries(shape)) {
      const key = prefix + name;
      const meta = configMeta.get(schema);
      const inner = objectShape(schema);
      if (isOptionMeta(meta)) {
        out.push({
          key: key as OptionKey,
          flag: meta.flag,
          arg: meta.arg,
          env: meta.env,
          default: showDefault(valueAt(DEFAULT_CONFIG, key.split("."))),
          description: meta.description,
          kind: kindOf(schema),
          secret: meta.secret ?? false,
          item: meta.item ?? ((t) => t),
          schema,
        });
      } else if (inner !== null) walk(inner, `${key}.`);
      else {
        throw new Error(
          `Cannot list the options: every field of the schema must have a flag and a variable ` +
            `in configMeta: current value is ${JSON.stringify(key)}`,
        );
      }
    }
  };
  walk(configSchema.shape, "");
  return out;
}

/** Every option: flag, variable, default and meaning (for resolving, --help and the docs). */
export const OPTIONS: readonly ConfigOption[] = listOptions();
