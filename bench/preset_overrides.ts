/**
 * Preset overrides from a benchmark's command line: `path=value;...` with
 * dot-separated paths into the preset and JSON values (a value that is not
 * JSON is taken as a string), validated by the preset schema.
 */
import { parsePreset, type Preset } from "../src/stream/preset_schema.ts";
import { FlagError } from "./args.ts";

/** Sets `path` (dot-separated) of a plain object to `value`, creating objects on the way. */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let o = obj;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[keys.at(-1)!] = value;
}

/** The preset with `overrides` ("a.b=1;c=true", values as JSON) applied, validated. */
export function withOverrides(preset: Preset, overrides: string): Preset {
  if (overrides.trim() === "") return preset;
  const p = structuredClone(preset) as unknown as Record<string, unknown>;
  for (const item of overrides.split(";")) {
    const eq = item.indexOf("=");
    if (eq < 1) {
      throw new FlagError(
        `Cannot apply preset overrides: each item must be path=value: current value is "${item}"`,
      );
    }
    const raw = item.slice(eq + 1);
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw;
    }
    setPath(p, item.slice(0, eq).trim(), value);
  }
  return parsePreset(p, `--set ${overrides}`);
}
