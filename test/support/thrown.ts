import { expect } from "vitest";

/** The error `fn` throws, checked to be a `type`; the test fails when nothing is thrown. */
export function thrownBy<T extends Error>(type: abstract new (...args: never[]) => T, fn: () => unknown): T {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as T;
  }
  throw new Error(`expected ${type.name} to be thrown`);
}
