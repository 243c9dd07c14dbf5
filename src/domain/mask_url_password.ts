/**
 * How a URL that may hold credentials is shown in logs, start-up lines,
 * error messages and `--print-config`: its password replaced by ********.
 */

/** What a masked secret reads as. */
export const MASK = "********";

/** `url` with any password replaced by ********; text that is not a URL is returned as is. */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === "") return url;
    u.password = MASK;
    return u.toString();
  } catch {
    return url;
  }
}
