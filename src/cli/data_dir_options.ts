/** The options export and import use: where the data directory is. */
import { OPTIONS } from "../config/mod.ts";

/** `--config` and `--data-dir`, the options that say where the data directory is. */
export const DATA_DIR_OPTIONS = OPTIONS.filter((o) => o.key === null || o.key === "dataDir");

/** The last lines of export's and import's help. */
export const OTHER_OPTIONS_NOTE =
  `Every other option of serve (forecastd help) is accepted and checked too, from its flag, its
FORECASTD_* variable or the --config file.`;
