import assert from "node:assert/strict";
import { SEASON_POINTS, SeasonProfile } from "../../src/stream/season_profile.ts";

Deno.test("SeasonProfile keeps at most SEASON_POINTS bucket means, the last bucket shorter", () => {
  const p = new SeasonProfile(1);
  p.configure(2 * SEASON_POINTS + 1); // 3 readings a bucket; the last holds 2 (4097 = 1365 × 3 + 2)
  assert.deepEqual([p.width, p.points], [3, 1366]);
  assert.ok(p.points <= SEASON_POINTS);
  const x = (n: number) => (n * 7919) % 101;
  for (let n = 0; n < p.season; n++) {
    assert.equal(p.ready, false, `n=${n}`);
    p.push([x(n)]);
  }
  assert.equal(p.ready, true);
  assert.equal(p.phase, p.season - 1);
  // the target h readings ahead reads the bucket at its phase, one season before
  for (const h of [1, 2, 3, 4, 100, p.season - 2, p.season - 1, p.season, p.season + 5]) {
    const q = (p.season - 1 + h) % p.season;
    const b = Math.floor(q / 3);
    const members = Array.from({ length: 3 }, (_, k) => b * 3 + k).filter((n) => n < p.season);
    const mean = members.reduce((a, n) => a + x(n), 0) / members.length;
    assert.ok(Math.abs(p.at(h, 0) - mean) < 1e-12, `h=${h}: ${p.at(h, 0)} vs ${mean}`);
  }
});

Deno.test("SeasonProfile: a bucket being filled still holds its mean of the season before", () => {
  const p = new SeasonProfile(2);
  p.configure(SEASON_POINTS * 2); // 2 readings a bucket
  for (let n = 0; n < p.season; n++) p.push([1, -1]);
  p.push([5, -5]); // the first of bucket 0's new filling
  assert.equal(p.phase, 0);
  assert.deepEqual([p.at(p.season, 0), p.at(p.season, 1)], [1, -1], "bucket 0: last season's");
  p.push([7, -7]); // completes it
  assert.deepEqual([p.at(p.season - 1, 0), p.at(p.season - 1, 1)], [6, -6]);
  assert.equal(p.at(1, 0), 1, "bucket 1 not refilled yet");
});

Deno.test("SeasonProfile.clear() forgets every reading; configure() re-sizes", () => {
  const p = new SeasonProfile(1);
  p.configure(5000);
  for (let n = 0; n < 5000; n++) p.push([n]);
  assert.equal(p.ready, true);
  p.clear();
  assert.deepEqual([p.ready, p.phase, p.complete], [false, -1, 0]);
  p.configure(0);
  assert.deepEqual([p.points, p.means.length, p.ready], [0, 0, false]);
});

Deno.test("SeasonProfile holds its means up to the bucket written last, reading 0 beyond", () => {
  const p = new SeasonProfile(2);
  p.configure(SEASON_POINTS * 4); // 4 readings a bucket
  assert.deepEqual([p.means.length, p.meansLength], [0, 2 * SEASON_POINTS]);
  for (let n = 0; n < 4 * 20; n++) p.push([n, -n]);
  assert.equal(p.means.length, 2 * 32, "20 buckets written: held in 16, then 32");
  assert.equal(p.at(SEASON_POINTS * 4 - p.phase + 4 * 100, 0), 0, "bucket 100: not written");
  assert.equal(p.at(SEASON_POINTS * 4 - p.phase, 1), -1.5, "bucket 0: mean of 0..3, negated");
  p.loadMeans(new Float64Array([1, 2, 3, 0, 0, 0, 0, 0]));
  assert.deepEqual(p.means, new Float64Array([1, 2, 3, 0]), "the rows up to the last not zero");
  p.loadMeans(new Float64Array([0, 0, -0, 0]));
  assert.deepEqual([...p.means].map((v) => Object.is(v, -0)), [false, false, true, false]);
});
