/**
 * Where the page keeps the API token it was given: for the tab's session
 * (sessionStorage), or on this device when the user ticks "remember"
 * (localStorage); one of the two at a time. The token never goes into the
 * page's address or its markup.
 */

/** The part of the Web Storage API the store uses. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The key the token is kept under (the /docs page reads it too). */
export const TOKEN_KEY = "forecastd.token";

/** A kept token, and whether it is kept on the device. */
export interface KeptToken {
  token: string;
  remembered: boolean;
}

/** The token of the session, else the remembered one. */
export class TokenStore {
  readonly #session: StorageLike;
  readonly #local: StorageLike;

  constructor(session: StorageLike, local: StorageLike) {
    this.#session = session;
    this.#local = local;
  }

  /** The kept token, or null. */
  load(): KeptToken | null {
    const session = read(this.#session);
    if (session !== null) return { token: session, remembered: false };
    const local = read(this.#local);
    return local === null ? null : { token: local, remembered: true };
  }

  /** Keeps `token` for the session, or on the device with `remember`, and drops the other copy. */
  save(token: string, remember: boolean): void {
    const [keep, drop] = remember ? [this.#local, this.#session] : [this.#session, this.#local];
    remove(drop);
    try {
      keep.setItem(TOKEN_KEY, token);
    } catch {
      // storage full or switched off: the token lasts as long as the page
    }
  }

  /** Forgets the token in both places. */
  forget(): void {
    remove(this.#session);
    remove(this.#local);
  }
}

function read(storage: StorageLike): string | null {
  try {
    const v = storage.getItem(TOKEN_KEY);
    return v === null || v === "" ? null : v;
  } catch {
    return null;
  }
}

function remove(storage: StorageLike): void {
  try {
    storage.removeItem(TOKEN_KEY);
  } catch {
    // switched off: nothing was kept there
  }
}

/** A storage kept in memory: where the browser's cannot be used (a test, a locked-down browser). */
export class MemoryStorage implements StorageLike {
  readonly #items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, value);
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
}
