import { InvalidArgumentError, Option } from "commander";

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

const DURATION_UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A duration in milliseconds: `500ms`, `10s`, `90m`, `1h`, `2d`, `1w` (the
 * units `--older-than` takes, plus seconds and milliseconds), or a bare
 * number of seconds.
 */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError("expected a duration such as 500ms, 10s, 5m, 1h, 2d");
  const ms = Number(match[1]) * DURATION_UNITS[(match[2] ?? "s") as keyof typeof DURATION_UNITS];
  if (!Number.isSafeInteger(Math.round(ms))) throw new InvalidArgumentError("duration too long");
  return Math.round(ms);
}
