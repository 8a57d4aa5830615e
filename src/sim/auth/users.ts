import { timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { ConfigurationError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";

/** Accounts of the embedded registry: name → password. */
export class Users {
  readonly #passwords = new Map<string, SecretString>();

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

  check(name: string, password: string): boolean {
    const want = this.#passwords.get(name);
    if (!want) return false;
    const a = Buffer.from(want.reveal());
    const b = Buffer.from(password);
    return a.length === b.length && timingSafeEqual(a, b);
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
