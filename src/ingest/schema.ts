/**
 * The zod pieces shared by the ingest schemas, and the translation of a zod
 * issue into an IngestError that names the field, the constraint and the
 * current value as received.
 *
 * Field checks push issues carrying their reject reason in `params.reason`;
 * issues zod raises itself (a wrong type, an unknown key) get their reason
 * from the field they are about.
 */
import { z } from "zod";
import {
  finiteNumber,
  isStreamId,
  isValueName,
  STREAM_ID_RULE,
  VALUE_NAME_RULE,
} from "../domain/reading.ts";
import { IngestError, type RejectReason } from "./ingest_error.ts";
import { timestampMs, TS_RULE } from "./timestamp.ts";

/** The context zod hands to a transform. */
type Ctx = z.RefinementCtx;

function reject(ctx: Ctx, reason: RejectReason, message: string, input: unknown): never {
  ctx.issues.push({ code: "custom", message, input, params: { reason } });
  return z.NEVER;
}

/** A reading value: a finite number, or a decimal string ("21.5"). */
export const valueField = z.unknown().transform((v, ctx) =>
  finiteNumber(v) ?? reject(ctx, "bad_value", "must be a finite number", v)
);

/** A timestamp in any accepted form, as ms since the epoch (unchecked range), or null. */
export const tsField = z.unknown().transform((v, ctx) => {
  if (v === null) return null;
  return timestampMs(v) ?? reject(ctx, "bad_ts", TS_RULE, v);
});

/** A stream id. */
export const streamField = z.unknown().transform((v, ctx) =>
  isStreamId(v) ? v : reject(ctx, "bad_stream", `must be a stream id of ${STREAM_ID_RULE}`, v)
);

/** A value name as a record key. */
export const valueNameKey = z.string().refine(isValueName, {
  error: `must be a value name of ${VALUE_NAME_RULE}`,
});

/** `prefix` and `path` as `readings[2].values.temperature`. */
export function fieldPath(prefix: string, path: readonly PropertyKey[]): string {
  let s = prefix;
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return s;
}

/** The value at `path` in `input`, or undefined. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/** The reason of an issue zod raised itself, by the field it is about. */
export type ReasonByField = Readonly<Record<string, RejectReason>>;

/** The first issue of a failed parse as an IngestError. */
export function issueToError(
  error: z.ZodError,
  input: unknown,
  prefix: string,
  reasons: ReasonByField,
  knownFields: readonly string[],
): IngestError {
  const issue = error.issues[0];
  const path = issue.path;
  switch (issue.code) {
    case "custom": {
      const reason = (issue.params?.reason as RejectReason | undefined) ?? "bad_shape";
      return new IngestError(reason, fieldPath(prefix, path), issue.message, valueAt(input, path));
    }
    case "unrecognized_keys": {
      const key = issue.keys[0];
      return new IngestError(
        "bad_shape",
        fieldPath(prefix, [...path, key]),
        `is not a known field (known: ${knownFields.join(", ")})`,
        valueAt(input, [...path, key]),
      );
    }
    case "invalid_key": {
      const key = path[path.length - 1];
      return new IngestError(
        "bad_name",
        fieldPath(prefix, path.slice(0, -1)),
        `keys must be value names of ${VALUE_NAME_RULE}`,
        key,
      );
    }
    default: {
      const last = [...path].reverse().find((p) => typeof p === "string");
      const reason = (typeof last === "string" && reasons[last]) || "bad_shape";
      return new IngestError(reason, fieldPath(prefix, path), issue.message, valueAt(input, path));
    }
  }
}
