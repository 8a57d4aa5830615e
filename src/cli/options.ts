import { InvalidArgumentError } from "commander";

/** Option parsers shared by the commands (commander calls them per value; errors are usage errors). */

/** A repeatable option: `--insecure-registry a --insecure-registry b` → `["a", "b"]`. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function parsePositive(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError("must be a positive whole number");
  return n;
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("must be a port number 0-65535");
  return n;
}
