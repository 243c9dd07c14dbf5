/** `forecastd import STREAM FILE [--force]`: a stream's model into the data directory. */
import { formatOptionsHelp, kvPath } from "../config/mod.ts";
import { DataDirBusyError, lockDataDir } from "../data_dir.ts";
import { print } from "../log.ts";
import { Store } from "../store/store.ts";
import { decodeStreamFile, importStream } from "../transfer/stream_file.ts";
import { leadingPositionals } from "./args.ts";
import { DATA_DIR_OPTIONS, OTHER_OPTIONS_NOTE } from "./data_dir_options.ts";
import { loadConfig } from "./load_config.ts";
import { UsageError } from "./usage_error.ts";

/** The command's help. */
export const IMPORT_HELP = `Usage: forecastd import STREAM FILE [--force] [options]

Reads a model that forecastd export wrote (FILE, or stdin when FILE is -) into the data directory
as STREAM. The daemon of that data directory must be stopped (it holds a lock on it). A file that
is damaged, of another version, or whose model this forecastd cannot restore is refused before
anything is written.

Options:
${
  formatOptionsHelp(DATA_DIR_OPTIONS, [
    ["--help, -h", "print this help"],
    ["--force", "replace the stream when the data directory has one of that name"],
  ])
}

${OTHER_OPTIONS_NOTE}
`;

/** Imports the stream; returns the exit status. */
export async function importCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    print(IMPORT_HELP);
    return 0;
  }
  const [[id, file], rest] = leadingPositionals(args, 2);
  if (id === undefined || file === undefined) {
    throw new UsageError(
      "Cannot import: the command must name a stream and a file: " +
        "forecastd import STREAM FILE [--force] [options]",
    );
  }
  const force = rest.includes("--force");
  const cfg = loadConfig(rest.filter((a) => a !== "--force"));
  let text: string;
  try {
    text = file === "-"
      ? await new Response(Deno.stdin.readable).text()
      : await Deno.readTextFile(file);
  } catch (e) {
    throw new UsageError(
      `Cannot import ${file}: the file must be readable: ${(e as Error).message}`,
    );
  }
  let decoded;
  try {
    decoded = await decodeStreamFile(text, file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let lock;
  try {
    lock = await lockDataDir(cfg.dataDir, `Cannot import stream ${JSON.stringify(id)}`);
  } catch (e) {
    if (e instanceof DataDirBusyError) throw new UsageError(e.message);
    throw e;
  }
  const path = kvPath(cfg);
  const kv = await Deno.openKv(path);
  try {
    const r = await importStream(new Store(kv), id, decoded, cfg, { force, where: path });
    console.error(
      `forecastd: imported stream "${r.stream}" (${r.bytes} bytes of model, exported from ` +
        `"${decoded.stream}" by forecastd ${decoded.forecastd} at ${decoded.exportedAt}) into ` +
        `${path}${r.replaced ? ", replacing the stream there" : ""}`,
    );
  } catch (e) {
    throw new UsageError((e as Error).message);
  } finally {
    kv.close();
    lock.release();
  }
  return 0;
}
