import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigurationError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";

/** Accounts of the embedded registry: name → password, plus any access tokens that stand in for it. */
export class Users {
  readonly #passwords = new Map<string, SecretString>();
  readonly #tokens = new Map<string, Set<string>>();

  constructor(entries: Record<string, string | SecretString> = {}) {
    for (const [name, password] of Object.entries(entries))
      this.#passwords.set(name, SecretString.from(password));
  }

  /** A file of `name:password` lines (`#` comments allowed). */
  static async fromFile(path: string): Promise<Users> {
    const users = new Users();
    const text = await readFile(path, "utf8").catch((error: Error) => {
      throw new ConfigurationError(`cannot read users file ${path}: ${error.message}`);
    });
    for (const [index, raw] of text.split("\n").entries()) {
      const line = raw.trim();
      if (!line || line.startsWith("#")) continue;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ConfigurationError(`${path}:${index + 1}: expected name:password`);
      users.#passwords.set(line.slice(0, colon), new SecretString(line.slice(colon + 1)));
    }
    return users;
  }

  get size(): number {
    return this.#passwords.size;
  }

  has(name: string): boolean {
    return this.#passwords.has(name);
  }

  /** Whether `password` is the account's password (not one of its tokens). */
  checkPassword(name: string, password: string): boolean {
    const want = this.#passwords.get(name);
    return want !== undefined && sameText(want.reveal(), password);
  }

  /** The account whose password is `secret`, for fakes whose secrets name their user (GitHub tokens). */
  ownerOfPassword(secret: string): string | undefined {
    for (const [name, password] of this.#passwords) if (sameText(password.reveal(), secret)) return name;
    return undefined;
  }

  /** The password or any active access token of the account. */
  check(name: string, password: string): boolean {
    if (this.checkPassword(name, password)) return true;
    for (const token of this.#tokens.get(name) ?? []) if (sameText(token, password)) return true;
    return false;
  }

  /** Lets a personal access token stand in for the password (Docker Hub PATs). */
  addToken(name: string, token: string): void {
    let set = this.#tokens.get(name);
    if (!set) {
      set = new Set();
      this.#tokens.set(name, set);
    }
    set.add(token);
  }

  removeToken(name: string, token: string): void {
    this.#tokens.get(name)?.delete(token);
  }

  /** The user named by a `Basic` Authorization header, when the password is right. */
  fromBasicHeader(header: string | undefined): string | undefined {
    if (!header?.toLowerCase().startsWith("basic ")) return undefined;
    const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) return undefined;
    const name = decoded.slice(0, colon);
    return this.check(name, decoded.slice(colon + 1)) ? name : undefined;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
