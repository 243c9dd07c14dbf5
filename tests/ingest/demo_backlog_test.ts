/**
 * The demo's clean backlog (two simulated days, no faults) must raise no
 * alert, whatever the hour the demo starts at: a young stream's warm-up is
 * not evidence of anything. The sweep drives startDemoSource with a fixed
 * clock, once per starting hour of the day, into a real Service.
 */
import assert from "node:assert/strict";
import { startDemoSource } from "../../src/ingest/demo_source.ts";
import { Service } from "../../src/service/service.ts";
import { Store } from "../../src/store/store.ts";
import { captureLog } from "../../src/log.ts";
import type { StoredAlert } from "../../src/domain/alert.ts";

/** Opened alerts on the clean backlog of a demo started at `hour` UTC (a fixed clock). */
async function backlogAlerts(hour: number): Promise<StoredAlert[]> {
  const kv = await Deno.openKv(":memory:");
  const svc = new Service({ store: new Store(kv), log: captureLog().log });
  const alerts: StoredAlert[] = [];
  svc.subscribe({ send: (e) => e.type === "opened" && alerts.push(e) });
  try {
    const demo = startDemoSource({
      sink: svc,
      broker: null,
      topics: ["sensors/{stream}/{value}"],
      log: captureLog().log,
      // live readings would come an hour later: the sweep stops after the backlog
      intervalMs: 3_600_000,
      now: () => Date.UTC(2026, 0, 1, hour),
    });
    try {
      await demo.warmedUp;
      assert.equal(svc.summary("demo").readings, 576);
    } finally {
      await demo.close();
    }
    await svc.close();
  } finally {
    kv.close();
  }
  return alerts;
}

Deno.test("the demo's clean backlog opens no alert at any of the 24 starting hours", async () => {
  const opened: string[] = [];
  for (let hour = 0; hour < 24; hour++) {
    for (const a of await backlogAlerts(hour)) {
      opened.push(`${hour}:00 -> ${new Date(a.time).toISOString()}`);
    }
  }
  assert.deepEqual(opened, [], "false alerts on the clean backlog");
});
