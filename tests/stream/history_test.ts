import assert from "node:assert/strict";
import { History } from "../../src/stream/history.ts";

const rows = (h: History, n: number) =>
  Array.from({ length: n }, (_, k) => [h.back(k, 0), h.back(k, 1)]);

Deno.test("History keeps the newest C rows, newest first, across the wrap", () => {
  const h = new History(2, 3);
  assert.equal(h.capacity, 3);
  for (let t = 1; t <= 5; t++) h.push([t, -t]);
  assert.equal(h.length, 3);
  assert.deepEqual(rows(h, 3), [[5, -5], [4, -4], [3, -3]]);
});

Deno.test("History.resize() keeps the newest rows that fit, in order", () => {
  const h = new History(2, 4);
  for (let t = 1; t <= 6; t++) h.push([t, 10 * t]);
  h.resize(7);
  assert.deepEqual([h.capacity, h.length], [7, 4]);
  assert.deepEqual(rows(h, 4), [[6, 60], [5, 50], [4, 40], [3, 30]]);
  h.push([7, 70]);
  assert.deepEqual(rows(h, 5), [[7, 70], [6, 60], [5, 50], [4, 40], [3, 30]]);
  h.resize(2);
  assert.deepEqual([h.capacity, h.length], [2, 2]);
  assert.deepEqual(rows(h, 2), [[7, 70], [6, 60]]);
});

Deno.test("History with one row holds the newest only; clear() forgets every row", () => {
  const h = new History(2, 1);
  h.push([1, 2]);
  h.push([3, 4]);
  assert.deepEqual([h.length, h.back(0, 0), h.back(0, 1)], [1, 3, 4]);
  h.clear();
  assert.equal(h.length, 0);
  h.push([5, 6]);
  assert.deepEqual([h.length, h.back(0, 0)], [1, 5]);
});
