import { InvalidArgumentError, Option } from "commander";
import { parseDuration as durationOf } from "../core/duration.js";

/** Option parsers shared by the commands (commander calls them per value; errors are usage errors). */

/**
 * `--config FILE` of the commands that build a provider client (`hub`,
 * `ghcr`, `gar`, `ratelimit`, `vulns`); `withProviderClient` reads it.
 */
export function configOption(): Option {
  return new Option(
    "--config <file>",
    "regkit config file (default $REGKIT_CONFIG or ~/.config/regkit/config.yaml)",
  );
}

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

/** `serve --grace` and `--upload-ttl`: a duration (`10s`, `1h`, `500ms`, …), a bare number in seconds. */
export function parseDuration(value: string): number {
  return asUsageError(() => durationOf(value, { bareUnit: "s" }));
}

/**
 * `--older-than`: the same durations, the unit always written (`30d`, `12h`,
 * `2w`, `90m`), since a misread bare number would delete more than meant.
 */
export function parseAge(value: string): number {
  return asUsageError(() => durationOf(value));
}

/** Commander reports an InvalidArgumentError as a usage error naming the option. */
function asUsageError<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
}
