/**
 * What the benches read of a process and of the machine from /proc: CPU
 * seconds per thread role and the load average (the machine is shared, so
 * every figure is printed beside it). Linux only.
 */

/** CPU seconds of a process's threads: by role, and by thread name. */
export interface ThreadCpu {
  /** The thread whose id is the pid: sources, broker, API. */
  main: number;
  /** Threads named `worker-*`: the Deno Workers, the shard workers. */
  workers: number;
  /** The runtime's own threads: garbage collection, compilation, I/O, KV. */
  other: number;
  /**
   * Every thread's seconds summed by its name (`/proc/<pid>/task/<tid>/comm`,
   * at most 15 characters) with a trailing number made `#` (`worker-#`,
   * `tokio-runtime-w`, `V8 DefaultWorke`, ...); the main thread as `main`.
   */
  byName: Record<string, number>;
  /**
   * Every thread's seconds by its own name, the number kept (`worker-1`,
   * `worker-2`: each shard worker apart); threads of one name summed, the
   * main thread as `main`.
   */
  byThread: Record<string, number>;
}

/**
 * CPU seconds (utime + stime) of each thread of process `pid`, summed by
 * role (`main`, `workers`, `other`) and by thread name (`byName`).
 */
export function threadCpu(pid: number): ThreadCpu {
  return parseThreadCpu(pid, taskStats(pid).outputSync().stdout);
}

/**
 * threadCpu() without blocking the caller's event loop while `cat` runs (a
 * bench that publishes from the same thread samples with it every second).
 */
export async function threadCpuAsync(pid: number): Promise<ThreadCpu> {
  return parseThreadCpu(pid, (await taskStats(pid).output()).stdout);
}

/** Every thread's /proc stat line: Deno reads /proc/<pid>/task only with --allow-all, so the shell. */
function taskStats(pid: number): Deno.Command {
  return new Deno.Command("sh", { args: ["-c", `cat /proc/${pid}/task/*/stat`], stderr: "null" });
}

/**
 * The stat lines of every thread of process `pid` (`/proc/<pid>/task/<tid>/stat`)
 * read as threadCpu() does.
 */
export function parseThreadCpu(pid: number, stat: Uint8Array): ThreadCpu {
  const out: ThreadCpu = { main: 0, workers: 0, other: 0, byName: {}, byThread: {} };
  for (const line of new TextDecoder().decode(stat).split("\n")) {
    const close = line.lastIndexOf(")");
    if (close < 0) continue;
    const tid = line.slice(0, line.indexOf(" "));
    const comm = line.slice(line.indexOf("(") + 1, close);
    const x = line.slice(close + 2).split(" ");
    const sec = (Number(x[11]) + Number(x[12])) / 100;
    const name = tid === String(pid) ? "main" : comm.replace(/\d+$/, "#");
    out.byName[name] = (out.byName[name] ?? 0) + sec;
    const own = tid === String(pid) ? "main" : comm;
    out.byThread[own] = (out.byThread[own] ?? 0) + sec;
    if (tid === String(pid)) out.main += sec;
    else if (comm.startsWith("worker-")) out.workers += sec;
    else out.other += sec;
  }
  return out;
}

/**
 * `byName` of `after` less that of `before` (threads may have started
 * between them), each in µs per `per` (readings), the largest first, those
 * under 0.5 µs left out.
 */
export function byNamePer(
  before: ThreadCpu,
  after: ThreadCpu,
  per: number,
): Record<string, number> {
  const rows = Object.entries(after.byName)
    .map(([k, v]) => [k, Math.round((v - (before.byName[k] ?? 0)) / per * 1e6)] as const)
    .filter(([, us]) => us > 0)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows);
}

/**
 * CPU seconds (utime + stime) of this process, all threads (Deno asks for
 * every permission to read /proc/self: through `cat`).
 */
export function ownCpu(): number {
  return processCpu(Deno.pid);
}

/** CPU seconds (utime + stime) of process `pid`, all threads. */
export function processCpu(pid: number): number {
  const out = new Deno.Command("cat", { args: [`/proc/${pid}/stat`] }).outputSync();
  const s = new TextDecoder().decode(out.stdout);
  const x = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(x[11]) + Number(x[12])) / 100;
}

/** The machine's 1-minute load average (others' jobs run here too). */
export function loadavg(): number {
  const out = new Deno.Command("cat", { args: ["/proc/loadavg"] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).split(" ")[0]);
}

/** A thread's scheduling so far (`/proc/<pid>/task/<tid>/sched`). */
export interface ThreadSched {
  /** Moves from one CPU to another (`se.nr_migrations`). */
  migrations: number;
  /** Times it gave up its CPU to wait (for a message, a lock, I/O). */
  voluntary: number;
  /** Times the scheduler took its CPU from it while it could run. */
  involuntary: number;
}

/**
 * Each thread's ThreadSched by its own name (`worker-1`, `main` for the
 * thread whose id is the pid), threads of one name summed.
 */
export function threadSched(pid: number): Record<string, ThreadSched> {
  const script = `for t in /proc/${pid}/task/*; do ` +
    `printf '%s|%s|' "\${t##*/}" "$(cat $t/comm)"; ` +
    `grep -E '^(se\\.nr_migrations|nr_voluntary_switches|nr_involuntary_switches) ' $t/sched | ` +
    `awk '{printf "%s ", $3}'; echo; done`;
  const out = new Deno.Command("sh", { args: ["-c", script], stderr: "null" }).outputSync();
  return parseThreadSched(pid, new TextDecoder().decode(out.stdout));
}

/** threadSched()'s lines (`tid|comm|migrations voluntary involuntary`) read. */
export function parseThreadSched(pid: number, text: string): Record<string, ThreadSched> {
  const out: Record<string, ThreadSched> = {};
  for (const line of text.split("\n")) {
    const [tid, comm, nums] = line.split("|");
    if (nums === undefined) continue;
    const [migrations, voluntary, involuntary] = nums.trim().split(" ").map(Number);
    if (![migrations, voluntary, involuntary].every(Number.isFinite)) continue;
    const name = tid === String(pid) ? "main" : comm;
    const s = out[name] ?? (out[name] = { migrations: 0, voluntary: 0, involuntary: 0 });
    s.migrations += migrations;
    s.voluntary += voluntary;
    s.involuntary += involuntary;
  }
  return out;
}

/** A shard worker's thread over a window (bench/scale.ts's `workerThreadUs`). */
export interface ShardWorkerThread extends Partial<ThreadSched> {
  /** Its thread's name, `worker-N`. */
  thread: string;
  /** The readings its shard took in the window. */
  readings: number;
  /** Its thread's CPU µs over those readings; null when it took none. */
  usPerReading: number | null;
}

/**
 * Each shard worker's thread's CPU µs a reading over a window, of the
 * readings its shard took (`readings0[i]`, `readings1[i]`: shard i's count
 * before and after), and its moves between CPUs and switches (`migrations`,
 * `voluntary`: waits, `involuntary`: preemptions) from the ThreadSched
 * before and after. Thread `worker-N` is taken as shard i in the order of N
 * (Deno numbers its Workers in the order they start, the daemon starts
 * shard 0 first).
 */
export function perShardWorker(
  before: ThreadCpu,
  after: ThreadCpu,
  readings0: readonly number[],
  readings1: readonly number[],
  sched0: Record<string, ThreadSched>,
  sched1: Record<string, ThreadSched>,
): ShardWorkerThread[] {
  const names = Object.keys(after.byThread).filter((n) => /^worker-\d+$/.test(n))
    .sort((a, b) => Number(a.slice(7)) - Number(b.slice(7)));
  return names.map((thread, i) => {
    const readings = (readings1[i] ?? NaN) - (readings0[i] ?? NaN);
    const sec = after.byThread[thread] - (before.byThread[thread] ?? 0);
    const s0 = sched0[thread], s1 = sched1[thread];
    return {
      thread,
      readings,
      usPerReading: readings > 0 ? Math.round(sec / readings * 1e6) : null,
      ...(s0 && s1
        ? {
          migrations: s1.migrations - s0.migrations,
          voluntary: s1.voluntary - s0.voluntary,
          involuntary: s1.involuntary - s0.involuntary,
        }
        : {}),
    };
  });
}
