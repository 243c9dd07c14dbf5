/**
 * When the scale benchmark's publishers send each second's readings, and
 * which seconds were late (bench/scale.ts `--part=footprint --feed=...`).
 * Not part of the test suite; tested in tests/bench/feed_schedule_test.ts.
 *
 * A second's readings go out in `slices` slices (stream k in slice
 * k mod slices), slice i due i/slices of a period into the second:
 *
 * - `burst`: one slice, the whole second at once (every sensor in phase);
 *   the next second once it is acknowledged, if that is later than due.
 * - `closed`: each slice at its due time or once the slice before it is
 *   acknowledged, if later: one slice in flight, so a second takes `slices`
 *   round trips and a slow acknowledgement delays every slice after it.
 * - `open`: each slice at its due time whatever is still in flight, as
 *   independent sensors send (none waits for another's acknowledgement).
 *
 * A slice is late when its last acknowledgement comes more than one period
 * after it was due (its sensors' next reading is due then); a second is
 * late when any of its slices is.
 *
 * ```ts
 * const report = await runFeed({
 *   kind: "open", slices: 10, seconds: 60, periodMs: 1000, start: performance.now(),
 *   send: (second, slice) => publisher.publish(messagesOf(second, slice)),
 * });
 * console.log(report.lateSeconds);
 * ```
 */

/** The feeds; see the module comment. */
export const FEEDS = ["burst", "closed", "open"] as const;
export type FeedKind = typeof FEEDS[number];

/** What {@link runFeed} needs. */
export interface FeedOptions {
  kind: FeedKind;
  /** Slices a second (1 for `burst`, whatever is given). */
  slices: number;
  /** Seconds 1..seconds are fed (a period each). */
  seconds: number;
  /** The length of a "second", ms. Default 1000. */
  periodMs?: number;
  /** performance.now() when second 1 begins: its slice i is due at start + i * periodMs / slices. */
  start: number;
  /** Publishes slice `slice` of second `second`; resolves once it is acknowledged. */
  send(second: number, slice: number): Promise<void>;
  /**
   * Called once second `second`'s slices are all published (`open`) or
   * acknowledged (`burst`, `closed`) and its period is over. `burst` and
   * `closed` go on once it resolves; `open` keeps its schedule meanwhile
   * (the calls still run one after the other, in order).
   */
  afterSecond?(second: number): Promise<void> | void;
  /** Asked before each second: true stops the feed there (a daemon far behind). */
  stop?(): boolean;
}

/** One slice's times, ms (performance.now()). */
export interface SliceTimes {
  second: number;
  slice: number;
  due: number;
  /** When send() was called. */
  published: number;
  /** When send() resolved: its last acknowledgement. */
  acked: number;
}

/** What {@link runFeed} returns. */
export interface FeedReport {
  /** Seconds whose slices were published (all of them, unless stop() said so). */
  secondsFed: number;
  slices: SliceTimes[];
  /** Seconds with a late slice. */
  lateSeconds: number;
  /** Which they were, in order. */
  lateAt: number[];
  lateSlices: number;
}

/** Feeds the seconds as `kind` says; resolves once every slice published is acknowledged. */
export async function runFeed(o: FeedOptions): Promise<FeedReport> {
  const period = o.periodMs ?? 1000;
  const slices = o.kind === "burst" ? 1 : o.slices;
  const times: SliceTimes[] = [];
  // the open feed's slices in flight; the first failure stops the feed
  const inFlight: Promise<void>[] = [];
  const failed: { first: { error: unknown } | null } = { first: null };
  const check = () => {
    if (failed.first) throw failed.first.error;
  };
  let fed = 0;
  // the open feed's afterSecond calls, one after the other
  let hooks: Promise<void> = Promise.resolve();
  for (let s = 1; s <= o.seconds && !(o.stop?.() ?? false); s++) {
    const begins = o.start + (s - 1) * period;
    for (let i = 0; i < slices; i++) {
      const due = begins + i * period / slices;
      if (performance.now() < due) await sleep(due - performance.now());
      check();
      const t: SliceTimes = { second: s, slice: i, due, published: performance.now(), acked: NaN };
      times.push(t);
      const acked = o.send(s, i).then(() => void (t.acked = performance.now()));
      if (o.kind === "open") {
        inFlight.push(acked.catch((error) => void (failed.first ??= { error })));
      } else await acked;
    }
    fed = s;
    const ends = begins + period;
    if (performance.now() < ends) await sleep(ends - performance.now());
    check();
    if (o.kind !== "open") await o.afterSecond?.(s);
    else if (o.afterSecond) {
      const hook = o.afterSecond;
      hooks = hooks.then(() => hook(s)).catch((error) => void (failed.first ??= { error }));
    }
  }
  await Promise.all(inFlight);
  await hooks;
  check();
  const late = times.filter((t) => t.acked - t.due > period);
  return {
    secondsFed: fed,
    slices: times,
    lateSeconds: new Set(late.map((t) => t.second)).size,
    lateAt: [...new Set(late.map((t) => t.second))],
    lateSlices: late.length,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What {@link keptUp} weighs, counted over a footprint run (bench/scale.ts). */
export interface KeptUpCounts {
  /** Seconds the run was to feed, and those fed (fewer when the daemon fell far behind). */
  seconds: number;
  secondsFed: number;
  /** Seconds with a slice acknowledged more than a period after it was due. */
  lateSeconds: number;
  /** Readings published, and of them trained on, shed, refused. */
  sent: number;
  trained: number;
  shed: number;
  rejected: number;
  /**
   * Readings published and not yet observed by the daemon when the feed
   * ended (every slice acknowledged): through a broker that acknowledges on
   * receipt (Mosquitto), the acknowledgements say nothing of the daemon,
   * this does.
   */
  backlogAtEnd: number;
  /** Readings a second (the streams, at one reading a second each). */
  perSecond: number;
}

/**
 * Whether the daemon kept up: every second fed and none late, every reading
 * trained on (none shed, none refused), and at the feed's end less than a
 * second of readings published and not observed yet.
 */
export function keptUp(c: KeptUpCounts): boolean {
  return c.secondsFed === c.seconds && c.lateSeconds === 0 && c.shed === 0 &&
    c.rejected === 0 && c.trained === c.sent && c.backlogAtEnd < c.perSecond;
}
