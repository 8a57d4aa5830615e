import { InvalidInputError } from "./errors.js";

const UNITS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

export type DurationUnit = keyof typeof UNITS;

export interface DurationOptions {
  /**
   * The unit of a bare number (`30`). Without one a bare number is refused:
   * where a mistaken unit deletes things (`--older-than`), the unit is
   * always written out.
   */
  bareUnit?: DurationUnit;
}

/**
 * A duration in milliseconds, the one grammar of every option that takes
 * one (`--older-than`, `serve --grace`, `serve --upload-ttl`): a number,
 * decimals allowed, and a unit — `ms`, `s`, `m` (minutes), `h`, `d`, `w`:
 * `500ms`, `10s`, `1.5h`, `90m`, `30d`, `2w`.
 */
export function parseDuration(text: string, options: DurationOptions = {}): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/.exec(text.trim());
  const unit = (match?.[2] as DurationUnit | undefined) ?? options.bareUnit;
  if (!match || !unit)
    throw new InvalidInputError(
      `invalid duration ${JSON.stringify(text.slice(0, 40))} (e.g. 30d, 12h, 2w, 90m, 10s, 500ms${
        options.bareUnit ? `, or a number of ${options.bareUnit === "s" ? "seconds" : options.bareUnit}` : ""
      })`,
    );
  const ms = Math.round(Number(match[1]) * UNITS[unit]);
  if (!Number.isSafeInteger(ms))
    throw new InvalidInputError(`duration ${JSON.stringify(text.slice(0, 40))} is too long`);
  return ms;
}
