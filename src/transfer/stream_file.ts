/**
 * A stream's model as a file: `forecastd export` writes one, `forecastd
 * import` reads one into the Deno KV of a stopped daemon.
 *
 * The file is JSON (readable with jq, safe to mail or commit), the checkpoint
 * bytes in base64 with their length and SHA-256:
 *
 * ```json
 * {
 *   "format": "forecastd-stream",
 *   "version": 1,
 *   "forecastd": "0.1.0",
 *   "exportedAt": "2025-06-01T12:00:00.000Z",
 *   "stream": "kitchen",
 *   "config": { "id": "kitchen", "preset": "default", "columns": ["temperature"], ... },
 *   "checkpoint": { "bytes": 48213, "sha256": "9f2c...", "base64": "Rk9S..." }
 * }
 * ```
 *
 * `config` is the stream's record as the daemon stores it (preset, columns,
 * targets, period, frozen, times); the checkpoint is the model state
 * (weights, optimizer moments, normaliser, experts, alert state), opaque
 * here. Importing under another id copies a trained model to a new stream.
 */
import { z } from "zod";
import {
  isStreamId,
  isValueName,
  MAX_VALUES_LIMIT,
  nameProblem,
  PRESET_NAME_PATTERN,
  PRESET_NAME_RULE,
  STREAM_ID_RULE,
  VALUE_NAME_RULE,
  valueCountProblem,
} from "../domain/reading.ts";
import { showValue } from "../domain/show_value.ts";
import {
  resolveServiceOptions,
  Service,
  type ServiceOptions,
  type StreamRecord,
} from "../service/service.ts";
import { Store } from "../store/store.ts";
import { captureLog } from "../log.ts";

/** The `format` field of every stream file. */
export const STREAM_FILE_FORMAT = "forecastd-stream";
/** The version written; files of other versions are refused. */
export const STREAM_FILE_VERSION = 1;

/** A decoded stream file. */
export interface StreamFile {
  forecastd: string;
  exportedAt: string;
  stream: string;
  config: StreamRecord;
  checkpoint: Uint8Array;
}

const streamId = z.string({ error: `must be a stream id of ${STREAM_ID_RULE}` }).refine(
  isStreamId,
  { error: `must be a stream id of ${STREAM_ID_RULE}` },
);
const valueName = z.string({ error: `must be a value name of ${VALUE_NAME_RULE}` }).refine(
  isValueName,
  { error: `must be a value name of ${VALUE_NAME_RULE}` },
);
const names = z.array(valueName, { error: "must be a list of value names" })
  .min(1, { error: "must list at least one value name" })
  .max(MAX_VALUES_LIMIT, { error: valueCountProblem(MAX_VALUES_LIMIT + 1, MAX_VALUES_LIMIT)! })
  .refine((a) => new Set(a).size === a.length, { error: "must not repeat a name" });
const timeError = "must be a time in ms (an integer from 0, 1970, to 8.64e15)";
const time = z.number({ error: timeError }).int({ error: timeError }).min(0, { error: timeError })
  .max(8.64e15, { error: timeError });
const periodError = "must be a positive integer number of ms or null";

// every field the daemon builds a stream from is checked as the API checks a PUT
const recordSchema = z.object({
  id: streamId,
  preset: z.string({ error: `must be ${PRESET_NAME_RULE}` }).regex(PRESET_NAME_PATTERN, {
    error: `must be ${PRESET_NAME_RULE}`,
  }),
  columns: names,
  targets: names,
  periodMs: z.number({ error: periodError }).int({ error: periodError })
    .positive({ error: periodError }).nullable(),
  frozen: z.boolean({ error: "must be true or false" }),
  createdAt: time,
  updatedAt: time.nullable(),
}).superRefine((rec, ctx) => {
  rec.targets.forEach((t, i) => {
    if (!rec.columns.includes(t)) {
      ctx.addIssue({
        code: "custom",
        path: ["targets", i],
        message: `must be one of the columns ${JSON.stringify(rec.columns)}`,
      });
    }
  });
});

const fileSchema = z.object({
  format: z.literal(STREAM_FILE_FORMAT, {
    error: `must be "${STREAM_FILE_FORMAT}" (is this a file from forecastd export?)`,
  }),
  version: z.literal(STREAM_FILE_VERSION, {
    error:
      `must be ${STREAM_FILE_VERSION} (this forecastd reads version ${STREAM_FILE_VERSION} files)`,
  }),
  forecastd: z.string().default("unknown"),
  exportedAt: z.string().default("unknown"),
  stream: streamId,
  config: recordSchema,
  checkpoint: z.object({
    bytes: z.number().int().min(1),
    sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "must be 64 hex digits" }),
    base64: z.string({ error: "must be base64 text" }),
  }),
});

/** The file's JSON text (pretty-printed, ending in a newline). */
export async function encodeStreamFile(
  f: Omit<StreamFile, "exportedAt"> & { exportedAt?: string },
): Promise<string> {
  const doc = {
    format: STREAM_FILE_FORMAT,
    version: STREAM_FILE_VERSION,
    forecastd: f.forecastd,
    exportedAt: f.exportedAt ?? new Date().toISOString(),
    stream: f.stream,
    config: f.config,
    checkpoint: {
      bytes: f.checkpoint.length,
      sha256: await sha256Hex(f.checkpoint),
      base64: toBase64(f.checkpoint),
    },
  };
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Reads a stream file; throws an Error naming each problem (`where` names the file). */
export async function decodeStreamFile(text: string, where: string): Promise<StreamFile> {
  const action = `Cannot import ${where}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(
      `${action}: the file must be JSON written by forecastd export: ${(e as Error).message}`,
    );
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      let value: unknown = json;
      for (const k of i.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[k];
      return `  ${i.path.join(".") || "(file)"}: ${i.message}: current value is ${
        showValue(value)
      }`;
    });
    throw new Error(`${action}: invalid stream file:\n${lines.join("\n")}`);
  }
  const d = parsed.data;
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(d.checkpoint.base64);
  } catch {
    throw new Error(`${action}: checkpoint.base64 must be base64 text: it is not`);
  }
  if (bytes.length !== d.checkpoint.bytes) {
    throw new Error(
      `${action}: the checkpoint must be ${d.checkpoint.bytes} bytes as the file states: ` +
        `current length is ${bytes.length} (the file is truncated or was edited)`,
    );
  }
  const sum = await sha256Hex(bytes);
  if (sum !== d.checkpoint.sha256) {
    throw new Error(
      `${action}: the checkpoint's SHA-256 must be ${d.checkpoint.sha256} as the file states: ` +
        `current value is ${sum} (the file is damaged or was edited)`,
    );
  }
  return {
    forecastd: d.forecastd,
    exportedAt: d.exportedAt,
    stream: d.stream,
    config: d.config,
    checkpoint: bytes,
  };
}

/** Reads a stream's record and checkpoint from the store; throws naming the known streams. */
export async function exportStream(
  store: Store,
  id: string,
  version: string,
  where: string,
): Promise<string> {
  const action = `Cannot export stream ${JSON.stringify(id)}`;
  if (!isStreamId(id)) {
    throw new Error(`${action}: the id must be a stream id of ${STREAM_ID_RULE}`);
  }
  const config = await store.getConfig<StreamRecord>(id);
  const bytes = config ? await store.loadCheckpoint(id) : null;
  if (!config || !bytes) {
    const known = await store.listStreams();
    throw new Error(
      `${action}: it must have a saved checkpoint in ${where}: ` +
        (config ? "it has a configuration but no checkpoint yet" : "there is no such stream") +
        `; streams there: ${known.length === 0 ? "none" : known.join(", ")} ` +
        `(a running daemon saves a new stream at its next checkpoint)`,
    );
  }
  return await encodeStreamFile({ forecastd: version, stream: id, config, checkpoint: bytes });
}

/** What importStream did. */
export interface ImportResult {
  stream: string;
  replaced: boolean;
  bytes: number;
}

/**
 * Writes a decoded stream file into the store as stream `id` (its record's
 * id becomes `id`). Refuses an existing stream unless `force`, and a model
 * this forecastd cannot restore (checked on a scratch in-memory KV first,
 * through the daemon's own load path, with the service settings the daemon
 * runs with), so a bad file never reaches the store.
 */
export async function importStream(
  store: Store,
  id: string,
  file: StreamFile,
  service: ServiceOptions,
  opts: { force: boolean; where: string },
): Promise<ImportResult> {
  const action = `Cannot import stream ${JSON.stringify(id)}`;
  if (!isStreamId(id)) {
    throw new Error(`${action}: the id must be a stream id of ${STREAM_ID_RULE}`);
  }
  const record: StreamRecord = { ...file.config, id };
  // the daemon's own limits, as it checks them when a stream is created
  const limits = resolveServiceOptions(service);
  const count = valueCountProblem(record.columns.length, limits.maxValuesPerStream);
  if (count) {
    throw new Error(
      `${action}: its values ${count} (maxValuesPerStream): current count is ${record.columns.length}`,
    );
  }
  for (const name of [id, ...record.columns]) {
    const problem = nameProblem(name, limits.maxNameLength);
    if (problem) {
      throw new Error(
        `${action}: ${name === id ? "its id" : "a value name"} ${problem} (maxNameLength): ` +
          `current value is ${showValue(name)}`,
      );
    }
  }
  const existing = await store.getConfig(id);
  if (existing !== null && !opts.force) {
    throw new Error(
      `${action}: it must not exist yet in ${opts.where}: it does (add --force to replace it)`,
    );
  }
  // Restore it once where nothing is at stake, exactly as the daemon will.
  const scratch = await Deno.openKv(":memory:");
  try {
    const trial = new Store(scratch);
    await trial.setConfig(id, record);
    await trial.saveCheckpoint(id, file.checkpoint);
    const captured = captureLog("error");
    const trialService = new Service({ store: trial, log: captured.log, options: service });
    await trialService.load();
    // the daemon would start a stream with a checkpoint it refuses afresh: refuse the file instead
    const why = captured.entries().find((e) => e.event === "stream.restore_failed");
    if (why || !trialService.records.has(id)) {
      const error = why?.error as { message?: string } | undefined;
      throw new Error(
        `${action}: the model must be one this forecastd can restore: ` +
          (error?.message ?? "it could not be loaded"),
      );
    }
  } finally {
    scratch.close();
  }
  await store.saveCheckpoint(id, file.checkpoint);
  await store.setConfig(id, record);
  return { stream: id, replaced: existing !== null, bytes: file.checkpoint.length };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
