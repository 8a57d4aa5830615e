import { expect } from "vitest";
import type { RegkitError } from "../../src/core/errors.js";

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

/** The error `work` rejects with (a promise, or a function run for one); the test fails when it resolves. */
export async function thrown<T extends Error = RegkitError>(
  work: Promise<unknown> | (() => unknown),
): Promise<T> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (error) {
    return error as T;
  }
  throw new Error("expected a rejection");
}

/** Every item of an async iterable, in order. */
export async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
