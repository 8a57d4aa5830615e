import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * Paths pino blanks before a line is written: credentials can reach a log
 * record through headers, request options or token responses.
 */
export const REDACT_PATHS = [
  "headers.authorization",
  "headers.cookie",
  'headers["proxy-authorization"]',
  "*.headers.authorization",
  "*.headers.cookie",
  "password",
  "token",
  "access_token",
  "refresh_token",
  "*.password",
  "*.token",
  "*.access_token",
  "*.refresh_token",
];

export type LogLevel = "silent" | "error" | "warn" | "info" | "debug" | "trace";

/** Structured logs to stderr (never stdout: that is for command output). */
export function createLogger(
  level: LogLevel = "warn",
  destination: NodeJS.WritableStream = process.stderr,
): Logger {
  return pino(
    { name: "regkit", level, redact: { paths: REDACT_PATHS, censor: "[REDACTED]" }, base: undefined },
    destination as pino.DestinationStream,
  );
}

/** A logger that drops everything: the library's default, so it never writes unasked. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/**
 * `-v` count to level. Without `-v` the command line prints only its one-line
 * error; `-v` adds warnings (retries, rate limits) and info (what was
 * pushed/pulled), `-vv` request lines, `-vvv` headers.
 */
export function levelForVerbosity(verbose: number): LogLevel {
  return (["silent", "info", "debug", "trace"] as const)[Math.min(3, Math.max(0, verbose))]!;
}
