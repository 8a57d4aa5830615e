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

  static from(value: string | SecretString): SecretString {
    return value instanceof SecretString ? value : new SecretString(value);
  }

  reveal(): string {
    return this.#value;
  }

  get length(): number {
    return this.#value.length;
  }

  isEmpty(): boolean {
    return this.#value.length === 0;
  }

  equals(other: SecretString): boolean {
    return this.#value === other.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}

export { REDACTED };
