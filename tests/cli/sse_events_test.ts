import assert from "node:assert/strict";
import { type SseEvent, sseEvents } from "../../src/cli/sse_events.ts";

/** The events of a body sent in the given chunks. */
async function parse(chunks: string[]): Promise<SseEvent[]> {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const s of chunks) c.enqueue(enc.encode(s));
      c.close();
    },
  });
  const out: SseEvent[] = [];
  for await (const e of sseEvents(body)) out.push(e);
  return out;
}

Deno.test("sseEvents() reads id, event and data; comments and a missing blank line end are dropped", async () => {
  const events = await parse([
    ": ping\n\n",
    'id: 0000000000000042\nevent: alert\ndata: {"id":"0000000000000042"}\n\n',
    "data: no end",
  ]);
  assert.deepEqual(events, [
    { id: "0000000000000042", event: "alert", data: '{"id":"0000000000000042"}' },
  ]);
});

Deno.test("sseEvents() joins data lines, keeps the last id, and reads CRLF and CR line ends across chunks", async () => {
  const events = await parse([
    "id: 7\r",
    "\ndata: a\r\ndata:b\r\rdata: c\n",
    "\n",
  ]);
  assert.deepEqual(events, [
    { id: "7", event: "message", data: "a\nb" },
    { id: "7", event: "message", data: "c" },
  ]);
});
