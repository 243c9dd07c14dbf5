/**
 * Replay of files whose timestamps are not ISO: `--time-format`, and the
 * rule of `auto`, end to end through `deno task replay`.
 */
import assert from "node:assert/strict";
import { parseReplayArgs } from "../../src/cli/replay.ts";
import type { ReplayArgs } from "../../src/replay/cli.ts";
import { withTempDir } from "../_helpers.ts";

const ROOT = new URL("../../", import.meta.url);
const FIXTURE = new URL("../fixtures/replay_small.csv", import.meta.url);

async function task(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "replay", ...args],
    cwd: ROOT,
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** The fixture with its ISO times written as a US spreadsheet writes them: 3/1/2021 1:00 PM. */
async function usDates(rows?: number): Promise<string> {
  const lines = (await Deno.readTextFile(FIXTURE)).trimEnd().split("\n");
  const body = lines.slice(1, rows === undefined ? undefined : rows + 1).map((line) => {
    const [ts, ...rest] = line.split(",");
    const d = new Date(`${ts.replace(" ", "T")}Z`);
    const h = d.getUTCHours();
    const clock = `${h % 12 === 0 ? 12 : h % 12}:${String(d.getUTCMinutes()).padStart(2, "0")} ${
      h < 12 ? "AM" : "PM"
    }`;
    return [`${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${clock}`, ...rest]
      .join(",");
  });
  return [lines[0], ...body].join("\n") + "\n";
}

Deno.test("parseReplayArgs() takes --time-format, auto by default, and names a wrong one", () => {
  const a = parseReplayArgs(["x.csv"]) as ReplayArgs;
  assert.equal(a.timeFormat, "auto");
  assert.equal(
    (parseReplayArgs(["x.csv", "--time-format", "dmy"]) as ReplayArgs).timeFormat,
    "dmy",
  );
  assert.throws(
    () => parseReplayArgs(["x.csv", "--time-format", "us"]),
    /^UsageError: Cannot run replay: --time-format must be one of auto, iso, mdy, dmy, excel, epoch-s, epoch-ms: current value is "us"$/,
  );
});

Deno.test("deno task replay reads US spreadsheet times month first, and scores them as the ISO file", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/us.csv`;
    await Deno.writeTextFile(file, await usDates());
    const us = await task(file, "--json", "--horizons", "1,6");
    assert.equal(us.code, 0, us.stderr);
    const iso = await task(FIXTURE.pathname, "--json", "--horizons", "1,6");
    const [u, i] = [JSON.parse(us.stdout), JSON.parse(iso.stdout)];
    assert.deepEqual([u.timeForm, u.timeFormDetected], ["mdy", true]);
    assert.deepEqual([i.timeForm, i.timeFormDetected], ["iso", true]);
    assert.equal(u.periodMs, 3_600_000);
    assert.deepEqual(u.horizons, i.horizons, "the same readings at the same times");
    const text = await task(file, "--horizons", "1");
    assert.match(text.stdout.split("\n")[0], /; times read as mdy \(detected\)$/);
    assert.doesNotMatch((await task(FIXTURE.pathname, "--horizons", "1")).stdout, /times read as/);
  });
});

Deno.test("deno task replay refuses dates whose order it cannot tell, and reads them with --time-format", async () => {
  await withTempDir(async (dir) => {
    const file = `${dir}/first12days.csv`;
    await Deno.writeTextFile(file, await usDates(12 * 24)); // 3/1 .. 3/12: both orders read
    const refused = await task(file, "--json");
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr.trim(),
      `Cannot read ${file}: line 2, column "date" must say whether the month or the day comes ` +
        "first: no part of any date is above 12, so both orders read; give --time-format mdy " +
        '(month first) or dmy (day first): current value is "3/1/2021 12:00 AM"',
    );
    const mdy = await task(file, "--json", "--time-format", "mdy", "--horizons", "1");
    assert.equal(mdy.code, 0, mdy.stderr);
    const j = JSON.parse(mdy.stdout);
    assert.deepEqual([j.timeForm, j.timeFormDetected, j.rows, j.periodMs], [
      "mdy",
      false,
      288,
      3_600_000,
    ]);
  });
});
