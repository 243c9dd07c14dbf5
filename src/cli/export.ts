/** `forecastd export STREAM [FILE]`: a stream's model out of the data directory, as JSON. */
import { formatOptionsHelp, kvPath } from "../config/mod.ts";
import { print } from "../log.ts";
import { Store } from "../store/store.ts";
import { exportStream } from "../transfer/stream_file.ts";
import { leadingPositionals } from "./args.ts";
import { DATA_DIR_OPTIONS, OTHER_OPTIONS_NOTE } from "./data_dir_options.ts";
import { loadConfig } from "./load_config.ts";
import { UsageError } from "./usage_error.ts";
import { VERSION } from "./version.ts";

/** The command's help. */
export const EXPORT_HELP = `Usage: forecastd export STREAM [FILE] [options]

Writes a stream's model (its configuration and checkpoint, JSON) to FILE, or to stdout when FILE
is - or left out. It may run while the daemon runs: it reads the stream's last checkpoint. Deno KV
opens its file read-write, so it needs write access to the data directory.

Options:
${formatOptionsHelp(DATA_DIR_OPTIONS, [["--help, -h", "print this help"]])}

${OTHER_OPTIONS_NOTE}
`;

/** Exports the stream; returns the exit status. */
export async function exportCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(EXPORT_HELP);
    return 0;
  }
  const [[id, file], rest] = leadingPositionals(args, 2);
  if (id === undefined) {
    throw new UsageError(
      "Cannot export: the command must name a stream: forecastd export STREAM [FILE] [options]",
    );
  }
  const cfg = loadConfig(rest);
  const path = kvPath(cfg);
  try {
    await Deno.stat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new UsageError(
      `Cannot export stream ${JSON.stringify(id)}: the data directory must hold a KV file: ` +
        `${path} does not exist (is --data-dir right?)`,
    );
  }
  const kv = await Deno.openKv(path);
  let text: string;
  try {
    text = await exportStream(new Store(kv), id, VERSION, path);
  } catch (e) {
    throw new UsageError((e as Error).message);
  } finally {
    kv.close();
  }
  if (file === undefined || file === "-") print(text.trimEnd());
  else {
    await Deno.writeTextFile(file, text);
    console.error(`forecastd: exported stream "${id}" from ${path} to ${file}`);
  }
  return 0;
}
