/**
 * Alerts as the API shows them: the stored alert (the same JSON on every
 * channel: the history, SSE, WebSocket, MQTT, webhooks) and a page of the
 * history. Times are ms since the epoch, as stored.
 */
import { z } from "zod";

const targetContext = z.object({
  value: z.number().meta({ description: "The reading" }),
  forecast: z.number().meta({ description: "The one-step forecast it was compared with" }),
  lower: z.number(),
  upper: z.number(),
});

/** One stored alert. */
export const storedAlertSchema = z.object({
  id: z.string().meta({
    description: "16 digits, increasing: the SSE event id and the position to resume after",
    pattern: "^[0-9]{16}$",
  }),
  type: z.enum(["opened", "resolved", "new_normal"]),
  stream: z.string(),
  ts: z.number().meta({ description: "The reading's time, ms" }),
  time: z.number().meta({ description: "The reading's time, ms: what the history is filtered by" }),
  since: z.number().meta({ description: "When the anomaly began, ms" }),
  state: z.enum(["open", "acknowledged", "resolved"]),
  acknowledgedAt: z.number().optional().meta({ description: "When it was acknowledged, ms" }),
  targets: z.record(z.string(), targetContext),
  score: z.number(),
  likelihood: z.number(),
  percentile: z.number().meta({
    description: "Share of this stream's past readings that were less surprising",
  }),
  unusual: z.object({ count: z.number(), of: z.number(), most: z.number() }).meta({
    description: "Of the last `of` readings, how many were unusual, and the most any " +
      "such window of this stream had held before",
  }),
  learning: z.boolean().meta({ description: "Whether the model is learning after this reading" }),
  message: z.string(),
}).meta({ id: "StoredAlert", description: "An alert event as stored and delivered" });

/** A page of the alert history. */
export const alertPageSchema = z.object({
  alerts: z.array(storedAlertSchema),
  next: z.string().nullable().meta({
    description: "The cursor of the next page (`after` for asc, `before` for desc), or null",
  }),
}).meta({ id: "AlertPage" });
