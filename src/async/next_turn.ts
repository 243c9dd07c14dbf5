/**
 * Lets the event loop run: resolves in a later turn of it, after the I/O
 * that is ready now (requests, socket data) has been handled. Long work
 * done in slices awaits it between slices, so nothing waits for the whole
 * of it.
 *
 * A timer it must be: it costs about 3 ms (timers set from timers are
 * clamped to 4 ms, the HTML rule Deno follows), but a message over a
 * MessageChannel (0.1 ms) did not let Deno's HTTP server answer between
 * slices: measured, a request waited 0.3 to 1.1 s behind 10 ms slices
 * yielding that way, and 1 to 34 ms with this.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
