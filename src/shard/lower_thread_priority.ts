/**
 * The shard workers' CPU priority (`--worker-nice`): each worker lowers its
 * own thread's priority, so that the main thread (sources, the API,
 * `/healthz`, alert fan-out) gets a core as soon as it needs one while the
 * workers train on every core. Training keeps the CPU it would have had
 * whenever the main thread is idle: nice changes who runs first, not how much
 * there is (docs/scaling.md, "Who gets a core").
 *
 * On Linux a nice value belongs to a thread: `setpriority(PRIO_PROCESS, 0,
 * n)`, which `node:os`'s `setPriority(0, n)` calls, changes the calling thread
 * only, so a worker that calls it leaves the main thread where it was (and
 * the threads the worker starts afterwards inherit it). Elsewhere (macOS, the
 * BSDs) it changes the whole process, main thread included, so it is not
 * done there. Raising a nice value needs no privilege, in a container too;
 * Deno needs `--allow-sys=getPriority,setPriority`.
 */
import os from "node:os";

/** The highest nice value (the lowest priority) Linux has. */
export const MAX_NICE = 19;

/**
 * Why the workers' threads cannot be made nicer here, or null when they can:
 * not Linux, or Deno not allowed to read and set a thread's priority.
 * `system` is the operating system (`Deno.build.os`). Asked on the main
 * thread, so that the daemon says it once; asking prompts no one.
 */
export function threadPriorityProblem(system: string = Deno.build.os): string | null {
  if (system !== "linux") {
    return `a nice value is a thread's own on Linux only (on ${system} it is the whole process's, ` +
      "the main thread's too)";
  }
  const denied = (["getPriority", "setPriority"] as const).filter((kind) =>
    Deno.permissions.querySync({ name: "sys", kind }).state !== "granted"
  );
  if (denied.length > 0) {
    return `Deno must be allowed to set a thread's priority (--allow-sys=${denied.join(",")})`;
  }
  return null;
}

/**
 * Makes the calling thread `steps` nice levels nicer than it is (at most
 * {@link MAX_NICE}: a thread already there stays); returns the nice value it
 * now has. Throws what the system call threw.
 */
export function lowerThreadPriority(steps: number): number {
  if (!Number.isInteger(steps) || steps < 0 || steps > MAX_NICE) {
    throw new RangeError(
      `Cannot lower the thread's priority: steps must be an integer from 0 to ${MAX_NICE}: ` +
        `current value is ${steps}`,
    );
  }
  const now = os.getPriority(0);
  const target = Math.min(MAX_NICE, now + steps);
  if (target > now) os.setPriority(0, target);
  return Math.max(now, target);
}
