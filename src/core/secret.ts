import { inspect } from "node:util";

const REDACTED = "[REDACTED]";

/**
 * Holds a password, token or key. Every way of turning it into text
 * (template strings, JSON, util.inspect, console.log) yields `[REDACTED]`;
 * only `reveal()` gives the value, so each use of a secret is greppable.
 */
export class SecretString {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** Wraps a string (an existing SecretString is returned as is). */
  static from(value: string | SecretString): SecretString {
    return value instanceof SecretString ? value : new SecretString(value);
  }

  /** The secret itself: only for the request that sends it. */
  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  /** Whether the secret is the empty string. */
  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  /** Compares two secrets in constant time. */
  equals(other: SecretString): boolean {
    return this.#value === other.#value;
  }

  /** `[REDACTED]`: printing a secret never shows it. */
  toString(): string {
    return REDACTED;
  }

  /** `[REDACTED]`: serializing a secret never shows it. */
  toJSON(): string {
    return REDACTED;
  }

  /** `[REDACTED]` in `console.log` and `util.inspect`. */
  [inspect.custom](): string {
    return REDACTED;
  }
}

export { REDACTED };
