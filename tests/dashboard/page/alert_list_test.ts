import assert from "node:assert/strict";
import {
  alertContext,
  AlertList,
  alertTitle,
  canAcknowledge,
} from "../../../src/dashboard/page/alert_list.ts";
import { storedAlert } from "../../_helpers.ts";

const id = (n: number) => String(n).padStart(16, "0");

Deno.test("AlertList keeps one entry per id, newest first, and knows the newest id", () => {
  const list = new AlertList();
  assert.equal(list.newestId(), null);
  assert.equal(list.put(storedAlert({ id: id(2) })), true);
  assert.equal(list.put(storedAlert({ id: id(10) })), true);
  assert.equal(list.put(storedAlert({ id: id(1) })), true);
  assert.equal(list.put(storedAlert({ id: id(2) })), false, "the same alert again changes nothing");
  assert.deepEqual(list.items().map((a) => a.id), [id(10), id(2), id(1)]);
  assert.equal(list.newestId(), id(10));
});

Deno.test("AlertList.put() replaces an alert by the acknowledged one", () => {
  const list = new AlertList();
  list.put(storedAlert({ id: id(1) }));
  const acked = storedAlert({ id: id(1), state: "acknowledged", acknowledgedAt: 5 });
  assert.equal(list.put(acked), true);
  assert.deepEqual(list.get(id(1)), acked);
  assert.equal(list.size, 1);
});

Deno.test("AlertList drops the oldest alert past its size", () => {
  const list = new AlertList(2);
  for (const n of [5, 3, 9]) list.put(storedAlert({ id: id(n) }));
  assert.deepEqual(list.items().map((a) => a.id), [id(9), id(5)]);
});

Deno.test("canAcknowledge() only for an open 'opened' alert; alertTitle() names the type", () => {
  assert.equal(canAcknowledge(storedAlert({ id: id(1) })), true);
  assert.equal(canAcknowledge(storedAlert({ id: id(1), state: "acknowledged" })), false);
  assert.equal(
    canAcknowledge(storedAlert({ id: id(1), type: "resolved", state: "resolved" })),
    false,
  );
  assert.deepEqual(
    (["opened", "resolved", "new_normal"] as const).map((type) =>
      alertTitle(storedAlert({ id: id(1), type }))
    ),
    ["Anomaly", "Back to normal", "New normal"],
  );
});

Deno.test("alertContext() gives each target's reading, forecast and interval, and whether it was outside", () => {
  const a = storedAlert({
    id: id(1),
    targets: {
      temperature: { value: 27.8, forecast: 23.3, lower: 23.1, upper: 23.5 },
      humidity: { value: 40, forecast: 41, lower: 38, upper: 44 },
      // before the intervals are calibrated the bounds are NaN (null in JSON)
      pressure: { value: 1000, forecast: 1001, lower: null!, upper: null! },
    },
  });
  assert.deepEqual(alertContext(a), [
    { target: "temperature", value: 27.8, forecast: 23.3, lower: 23.1, upper: 23.5, outside: true },
    { target: "humidity", value: 40, forecast: 41, lower: 38, upper: 44, outside: false },
    { target: "pressure", value: 1000, forecast: 1001, lower: null, upper: null, outside: false },
  ]);
});

Deno.test("AlertList.openIds() gives the newest alerts that can still be acknowledged", () => {
  const list = new AlertList();
  list.put(storedAlert({ id: id(1) }));
  list.put(storedAlert({ id: id(2), type: "resolved", state: "resolved" }));
  list.put(storedAlert({ id: id(3), state: "acknowledged", acknowledgedAt: 5 }));
  list.put(storedAlert({ id: id(4) }));
  list.put(storedAlert({ id: id(5) }));
  assert.deepEqual(list.openIds(10), [id(5), id(4), id(1)]);
  assert.deepEqual(list.openIds(2), [id(5), id(4)]);
  list.put(storedAlert({ id: id(5), state: "acknowledged", acknowledgedAt: 9 }));
  assert.deepEqual(list.openIds(10), [id(4), id(1)], "acknowledged: no longer asked about");
});
