/**
 * The built-in model presets: the JSON files in models/, imported statically
 * so a compiled binary carries them. Each file spells out every field with
 * its value, so they need no schema at load time (a shard worker loads this
 * module and not zod); the type check and a test (tests/stream/preset_test.ts)
 * hold them to the schema of preset_schema.ts.
 */
import type { Preset } from "./preset_schema.ts";
import defaultPreset from "../../models/default.json" with { type: "json" };
import piPreset from "../../models/pi-small.json" with { type: "json" };
import hourlyPreset from "../../models/hourly.json" with { type: "json" };
import fastPreset from "../../models/quarter-hourly.json" with { type: "json" };

export type { Preset } from "./preset_schema.ts";

/** The presets shipped in models/, in their files' form (every field given). */
export const BUILTIN_PRESET_FILES: readonly Preset[] = [
  defaultPreset,
  piPreset,
  hourlyPreset,
  fastPreset,
];

/** The presets shipped in models/, by name. */
export const BUILTIN_PRESETS: ReadonlyMap<string, Preset> = new Map(
  BUILTIN_PRESET_FILES.map((p) => [p.name, p]),
);

/** Looks up a built-in preset by name, with a message listing the known ones. */
export function getPreset(name: string): Preset {
  const p = BUILTIN_PRESETS.get(name);
  if (!p) {
    throw new RangeError(
      `Cannot find preset: name must be one of ${
        [...BUILTIN_PRESETS.keys()].join(", ")
      }: current value is "${name}"`,
    );
  }
  return p;
}
