/** `forecastd replay FILE`: a CSV through the engine, scored (src/replay/cli.ts does the work). */
import { runReplay } from "../replay/cli.ts";
import { CsvError } from "../replay/csv.ts";
import { UsageError } from "./usage_error.ts";

/** Runs the replay with its permissions dropped as soon as it can; returns the exit status. */
export async function replayCommand(args: string[]): Promise<number> {
  try {
    return await runReplay(args, { dropPermissions: true });
  } catch (e) {
    // a bad option, file or row is the user's to fix: exit status 2
    if (e instanceof RangeError || e instanceof CsvError || e instanceof Deno.errors.NotFound) {
      throw new UsageError((e as Error).message);
    }
    throw e;
  }
}
