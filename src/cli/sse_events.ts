/**
 * Server-Sent Events read off a response body, as the HTML standard parses
 * them (what `forecastd alerts --follow` reads from /v1/alerts/events): lines
 * end with LF, CRLF or CR; `field: value` lines build an event, a blank line
 * sends it; lines starting with ":" are comments (the daemon's heartbeat).
 * The last `id` seen stays the id of the events after it, as in EventSource.
 */

/** One event. */
export interface SseEvent {
  /** The last event id seen ("" before any). */
  id: string;
  /** The event type; "message" when the event named none. */
  event: string;
  /** The data lines, joined with LF. */
  data: string;
}

/** The events of `body`, as they arrive; ends when the body does. */
export async function* sseEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  let id = "", event = "", data: string[] = [];
  let buf = "";
  let skipLf = false;
  for await (const chunk of body.pipeThrough(new TextDecoderStream())) {
    buf += chunk;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i];
      if (c !== "\n" && c !== "\r") continue;
      if (c === "\n" && skipLf && i === start) {
        // the LF of a CRLF whose CR ended the previous line
        skipLf = false;
        start = i + 1;
        continue;
      }
      skipLf = c === "\r";
      const line = buf.slice(start, i);
      start = i + 1;
      if (line === "") {
        if (data.length > 0) yield { id, event: event || "message", data: data.join("\n") };
        event = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "data") data.push(value);
      else if (field === "event") event = value;
      else if (field === "id" && !value.includes("\0")) id = value;
    }
    buf = buf.slice(start);
  }
}
