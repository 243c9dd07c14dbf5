/**
 * A failure of the command line that a person can fix (a bad argument, a
 * missing file, a busy data directory): main.ts prints its message without a
 * stack and exits with status 2.
 *
 * It is a RangeError, the error of an argument outside what a function
 * accepts, so that code which reports bad arguments as RangeErrors (the
 * replay command) can throw it too.
 */
export class UsageError extends RangeError {
  override name = "UsageError";
}
