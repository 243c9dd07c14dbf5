/** `forecastd version`, and the version every command reports. */
import denoJson from "../../deno.json" with { type: "json" };
import { print } from "../log.ts";

/** forecastd's version, from deno.json. */
export const VERSION = denoJson.version;

/** Prints `forecastd <version> (deno <version>)`. */
export function versionCommand(): number {
  print(`forecastd ${VERSION} (deno ${Deno.version.deno})`);
  return 0;
}
