/**
 * Where the main thread's time goes for one big batch, from the body to the
 * service (not part of the test suite): each step timed alone, in-process,
 * `--rounds` times (the median and the worst printed).
 *
 *   deno run --allow-read --allow-sys=loadavg bench/parse_cost.ts [--batch=10000] [--rounds=20]
 *
 * Bodies: the HTTP batch of bench/scale.ts's healthz part (`batch` readings
 * `{"stream","ts","values":{"v"}}`, 4 streams) and a WebSocket message of
 * 1 MiB of the same readings. Steps: UTF-8 decoding; JSON.parse; the
 * per-element checks by the zod schemas alone (the way every element went
 * before the fast path) and with the fast path; the whole synchronous parse;
 * the longest run without a turn of the event loop in the sliced parse (a
 * 0 ms timer's longest wait, in wall and in CPU time, the median and the
 * worst of the rounds), the same with the array parsed whole
 * (`pieceBytes: Infinity`: decoding and `JSON.parse` one call each, as
 * before json_array_pieces.ts), and the same readings sent as
 * `{"readings": [...]}` (a form parsed whole: `objectLongestStallMs`);
 * ingestLimited (the stream creation limit) with a sink that takes
 * everything at once.
 */
import { ingestLimited } from "../src/api/ingest.ts";
import { StreamCreationLimit } from "../src/api/stream_creation_limit.ts";
import type { Reading } from "../src/domain/reading.ts";
import { parseHttpBody, parseHttpBodyAsync, parseJsonValue } from "../src/ingest/parse.ts";
import { exitOnFlagError, integer, parseFlags } from "./args.ts";
import { emitResult, median, StallWatch } from "./stats.ts";
import { START } from "../tests/e2e/_daemon.ts";
import { bytesBatch, httpBatch } from "../tests/e2e/_big_batches.ts";

const f = exitOnFlagError(() =>
  parseFlags(Deno.args, { batch: integer(10_000), rounds: integer(20) }, "Cannot parse flags")
);

const receivedAt = START + 400 * 86_400_000;
const http = JSON.stringify(httpBatch(f.batch, ["h0", "h1", "h2", "h3"]));
const wsReadings = bytesBatch(1024 * 1024, ["w0", "w1", "w2", "w3"]);
const ws = JSON.stringify(wsReadings);

const loadavg = () => Deno.loadavg()[0];

function timed(fn: () => unknown): { medianMs: number; maxMs: number } {
  const ms: number[] = [];
  for (let r = 0; r < f.rounds; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { medianMs: round(median(ms)), maxMs: round(ms.at(-1)!) };
}

/**
 * The longest run without a turn in each round, in wall time and in CPU
 * time (this process's user + system time between two beats of a 0 ms
 * timer: what the run costs, however many other jobs share the cores):
 * the median and the worst of the rounds, ms.
 */
async function longestStall(fn: () => Promise<unknown>) {
  const wall: number[] = [], cpu: number[] = [];
  for (let r = 0; r < f.rounds; r++) {
    const watch = new StallWatch();
    await fn();
    const { wallMs, cpuMs } = watch.stop();
    wall.push(wallMs);
    cpu.push(cpuMs);
  }
  const sum = (a: number[]) => {
    a.sort((x, y) => x - y);
    return { medianMs: round(median(a)), maxMs: round(a.at(-1)!) };
  };
  return { wall: sum(wall), cpu: sum(cpu) };
}

const round = (x: number) => Math.round(x * 100) / 100;

for (
  const [name, body, count] of [["http", http, f.batch], ["ws", ws, wsReadings.length]] as const
) {
  const bytes = new TextEncoder().encode(body);
  const object = new TextEncoder().encode(`{"readings":${body}}`);
  const opts = { receivedAt };
  const json = JSON.parse(body);
  const scope = { stream: null, value: null, source: "path" as const };
  const readings = (parseHttpBody(bytes, opts) as { readings: Reading[] }).readings;
  const sink = {
    ingest: (rs: readonly Reading[]) => Promise.resolve({ accepted: rs.length, rejected: [] }),
    exists: () => true,
    reject: () => {},
  };
  const log = { warn: () => {} } as unknown as Parameters<typeof ingestLimited>[0]["log"];
  const limit = new StreamCreationLimit();
  const limited = [] as number[];
  for (let r = 0; r < f.rounds; r++) {
    const t = performance.now();
    await ingestLimited({ sink, log, streamLimit: limit }, readings, "http", "bench");
    limited.push(performance.now() - t);
  }
  limited.sort((a, b) => a - b);
  emitResult({
    part: "parse_cost",
    body: name,
    readings: count,
    bytes: bytes.length,
    decodeMs: timed(() => new TextDecoder().decode(bytes)),
    jsonParseMs: timed(() => JSON.parse(body)),
    zodChecksMs: timed(() => parseJsonValue(json, scope, { ...opts, fastPath: false })),
    fastChecksMs: timed(() => parseJsonValue(json, scope, opts)),
    wholeParseMs: timed(() => parseHttpBody(bytes, opts)),
    wholeParseZodMs: timed(() => parseHttpBody(bytes, { ...opts, fastPath: false })),
    slicedLongestStallMs: await longestStall(() => parseHttpBodyAsync(bytes, opts)),
    wholeArrayLongestStallMs: await longestStall(() =>
      parseHttpBodyAsync(bytes, { ...opts, pieceBytes: Infinity })
    ),
    objectLongestStallMs: await longestStall(() => parseHttpBodyAsync(object, opts)),
    ingestLimitedMs: { medianMs: round(median(limited)), maxMs: round(limited.at(-1)!) },
    loadavg1: loadavg(),
  });
}
