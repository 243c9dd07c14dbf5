/**
 * The daemon (`main.ts`) with one addition for tests/e2e/shutdown_test.ts:
 * each SIGUSR1 makes a promise reject with nobody to handle it, as a bug
 * anywhere in the daemon would. The guard of src/cli/unhandled_rejections.ts
 * must log it, count it, and keep the daemon serving.
 */
import { main } from "../../main.ts";

Deno.addSignalListener("SIGUSR1", () => {
  Promise.reject(new Error("a rejection nobody handles (tests/e2e/shutdown_test.ts)"));
});
Deno.exit(await main(Deno.args));
