/**
 * What the configuration schema says about its fields beyond their type:
 * a description for people, whether the value is a secret, and for the
 * options a user sets (the leaves of Config, and the schema itself for
 * `--config`) the flag and the environment variable that set them.
 *
 * The schema registers each field in `configMeta` (zod's registries), and
 * everything else reads it from there: resolving, `--help`, masking,
 * `--print-config` and docs/configuration.md. There is no other list of
 * options.
 */
import { z } from "zod";

/** What every described field of the configuration carries. */
export interface FieldMeta {
  /** What the field means, one phrase without a trailing period (help and docs). */
  description: string;
  /** Masked in error messages and in `--print-config`. Default false. */
  secret?: boolean;
}

/** A field that a user sets by flag, variable or file key. */
export interface OptionMeta extends FieldMeta {
  /** The command-line flag, e.g. `--data-dir` (kebab-case; singular for a list). */
  flag: string;
  /** The flag's argument in help, e.g. `DIR`; "" for a boolean flag. */
  arg: string;
  /** The environment variable, e.g. `FORECASTD_DATA_DIR`. */
  env: string;
  /**
   * How one flag value, or one item of the variable, becomes an element of a
   * list option. Default: the text itself.
   */
  item?: (text: string) => unknown;
}

/** The metadata of the configuration schema's fields. */
export const configMeta = z.registry<FieldMeta | OptionMeta>();

/** True when `meta` describes an option (it has a flag and a variable). */
export function isOptionMeta(meta: FieldMeta | OptionMeta | undefined): meta is OptionMeta {
  return meta !== undefined && "flag" in meta;
}

/**
 * The schema under its wrappers (default, prefault, nullable, optional):
 * the type that validates a value that is there.
 */
export function unwrapSchema(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s.def as { type: string; innerType?: z.ZodType };
    if (
      (def.type === "default" || def.type === "prefault" || def.type === "nullable" ||
        def.type === "optional") && def.innerType
    ) s = def.innerType;
    else return s;
  }
}

/** The fields of an object schema (under its wrappers), or null for any other schema. */
export function objectShape(schema: z.ZodType): Record<string, z.ZodType> | null {
  const s = unwrapSchema(schema);
  return s instanceof z.ZodObject ? s.shape : null;
}

/** The element schema of an array schema (under its wrappers), or null for any other schema. */
export function arrayElement(schema: z.ZodType): z.ZodType | null {
  const s = unwrapSchema(schema);
  return s instanceof z.ZodArray ? s.element as z.ZodType : null;
}

/** The field `name` of an object schema, or null when it has none (or is no object schema). */
export function fieldOf(schema: z.ZodType, name: string): z.ZodType | null {
  const shape = objectShape(schema);
  return shape !== null && Object.hasOwn(shape, name) ? shape[name] : null;
}

/**
 * The schema of the field at `path` (`["webhooks", 0, "url"]`) inside
 * `schema`, or null when the path leaves the schema (an unknown key).
 */
export function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | null {
  let s: z.ZodType | null = schema;
  for (const p of path) {
    if (s === null) return null;
    s = typeof p === "number" ? arrayElement(s) : fieldOf(s, String(p));
  }
  return s;
}

/** The value at `path` (`["alertRetention", "maxEvents"]`) inside `value`, or undefined. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}
