/**
 * The one error hierarchy of regkit. Every failure a caller can act on is a
 * RegkitError with a stable `code` (OCI error codes where they exist), a
 * `category` the CLI maps to an exit code, and `retryable` for the resilience
 * layer. Messages are one line and never contain secrets.
 */

export type ErrorCategory =
  | "configuration"
  | "usage"
  | "authentication"
  | "authorization"
  | "not-found"
  | "invalid"
  | "protocol"
  | "integrity"
  | "rate-limit"
  | "quota"
  | "network"
  | "server"
  | "circuit-open"
  | "unsupported";

/** One entry of the OCI error envelope `{"errors":[{code,message,detail}]}`. */
export interface OciErrorEntry {
  code: string;
  message?: string;
  detail?: unknown;
}

export interface RegkitErrorOptions {
  code?: string;
  category?: ErrorCategory;
  status?: number;
  retryable?: boolean;
  provider?: string;
  cause?: unknown;
  ociErrors?: OciErrorEntry[];
}

const BRAND = Symbol.for("regkit.error");

/** The base of every error regkit throws: a stable `code`, a `category` (which maps to the CLI's exit code), whether a retry may help, and the registry's OCI error entries. */
export class RegkitError extends Error {
  readonly code: string;
  readonly category: ErrorCategory;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly provider: string | undefined;
  readonly ociErrors: OciErrorEntry[];
  readonly [BRAND] = true;

  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(oneLine(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? "UNKNOWN";
    this.category = options.category ?? "server";
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.provider = options.provider;
    this.ociErrors = options.ociErrors ?? [];
  }
}

/** Works across duplicate copies of the package, where `instanceof` would not. */
export function isRegkitError(value: unknown): value is RegkitError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Messages quote what users and registries sent; line breaks would split the
 * CLI's one-line error and control or bidi characters could rewrite the
 * terminal, so they are shown escaped.
 */
function oneLine(message: string): string {
  return message
    .replace(/\s*[\r\n\u2028\u2029]+\s*/g, " ")
    .trim()
    .replace(
      /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
}

/** Bad settings or local files: a config file, a layout's `index.json`, a Docker config. */
export class ConfigurationError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "CONFIGURATION", category: "configuration", ...options });
  }
}

/** A call or command line that cannot work as given (exit code 2). */
export class UsageError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "USAGE", category: "usage", ...options });
  }
}

/** User or server supplied a value that breaks a grammar (reference, digest, tag, header). */
export class InvalidInputError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "INVALID", category: "invalid", ...options });
  }
}

/** A webhook body that is not JSON or breaks its provider's payload schema. */
export class WebhookPayloadError extends InvalidInputError {}

export class InvalidReferenceError extends InvalidInputError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid reference ${JSON.stringify(truncate(input))}: ${reason}`, { code: "NAME_INVALID" });
    this.input = input;
  }
}

export class InvalidDigestError extends InvalidInputError {
  readonly input: string;
  constructor(input: string, reason: string) {
    super(`invalid digest ${JSON.stringify(truncate(input))}: ${reason}`, { code: "DIGEST_INVALID" });
    this.input = input;
  }
}

/** A manifest that is not JSON, fails its schema, or is over the size cap. */
export class ManifestInvalidError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "MANIFEST_INVALID", category: "protocol", ...options });
  }
}

/** A response larger than regkit accepts for its kind (manifests, JSON bodies). */
export class SizeLimitError extends RegkitError {
  readonly limit: number;
  constructor(what: string, limit: number, options: RegkitErrorOptions = {}) {
    super(`${what} exceeds the limit of ${limit} bytes`, {
      code: "SIZE_INVALID",
      category: "protocol",
      ...options,
    });
    this.limit = limit;
  }
}

/** The registry answered something the protocol does not allow. */
export class ProtocolError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "PROTOCOL", category: "protocol", ...options });
  }
}

/** Content whose digest is not the one expected: nothing was stored (exit code 6). */
export class DigestMismatchError extends RegkitError {
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string, what = "content") {
    super(`${what} digest mismatch: expected ${expected}, got ${actual}`, {
      code: "DIGEST_INVALID",
      category: "integrity",
    });
    this.expected = expected;
    this.actual = actual;
  }
}

/** Content whose size is not the one expected: nothing was stored (exit code 6). */
export class SizeMismatchError extends RegkitError {
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number, what = "content") {
    super(`${what} size mismatch: expected ${expected} bytes, got ${actual}`, {
      code: "SIZE_INVALID",
      category: "integrity",
    });
    this.expected = expected;
    this.actual = actual;
  }
}

/** No such manifest, blob, repository or tag (exit code 3). */
export class NotFoundError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "NOT_FOUND", category: "not-found", status: 404, ...options });
  }
}

/** Missing or refused credentials (exit code 4). `registry` names the host to log in to, where known. */
export class AuthenticationError extends RegkitError {
  readonly registry: string | undefined;
  constructor(message: string, options: RegkitErrorOptions & { registry?: string } = {}) {
    const { registry, ...rest } = options;
    super(message, { code: "UNAUTHORIZED", category: "authentication", ...rest });
    this.registry = registry;
  }
}

/**
 * The registry refused the user name and password (or token) it was given:
 * one error and one wording whether it checks them itself (Basic) or through
 * its token service (Bearer).
 */
export class CredentialsRejectedError extends AuthenticationError {
  readonly source: string;
  constructor(registry: string, source: string, options: RegkitErrorOptions = {}) {
    super(`${registry} rejected the credentials from ${source} (wrong user name, password or token)`, {
      status: 401,
      ...options,
      registry,
    });
    this.source = source;
  }
}

/** Credentials accepted, access denied (exit code 4). */
export class AuthorizationError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "DENIED", category: "authorization", ...options });
  }
}

/** A registry's rate limit or pull budget is exhausted; `retryAfter` says when to try again (exit code 5). */
export class RateLimitError extends RegkitError {
  readonly resetAt: Date | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: RegkitErrorOptions & { resetAt?: Date; retryAfterMs?: number } = {}) {
    super(message, {
      code: "TOOMANYREQUESTS",
      category: "rate-limit",
      status: 429,
      retryable: true,
      ...options,
    });
    this.resetAt = options.resetAt;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * The registry refuses an operation by its configuration, whoever asks: deletes
 * disabled, no tag deletion. A permission of the registry, not of the user
 * (exit code 4, as the README's table has it).
 */
export class RefusedError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "UNSUPPORTED", category: "authorization", ...options });
  }
}

/** `DELETE /v2/NAME/manifests/TAG` refused: the registry deletes manifests by digest only (distribution answers `DIGEST_INVALID`). */
export class TagDeletionRefusedError extends RefusedError {
  readonly registry: string;
  readonly repository: string;
  readonly tag: string;
  /** What the registry answered, e.g. `400 DIGEST_INVALID`. */
  readonly answer: string;
  constructor(
    registry: string,
    repository: string,
    tag: string,
    answer: string,
    options: RegkitErrorOptions & { hint?: string } = {},
  ) {
    const { hint, ...rest } = options;
    super(
      `${registry} cannot delete tags (DELETE ${repository}:${tag} answered ${answer})${hint ? `; ${hint}` : ""}`,
      rest,
    );
    this.registry = registry;
    this.repository = repository;
    this.tag = tag;
    this.answer = answer;
  }
}

/** The registry does not offer what was asked (a delete, the catalog, an upload kind). */
export class UnsupportedError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "UNSUPPORTED", category: "unsupported", ...options });
  }
}

/** The registry could not be reached or the connection broke (exit code 7). */
export class NetworkError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "NETWORK", category: "network", retryable: true, ...options });
  }
}

/** No answer within the configured time (exit code 7). */
export class TimeoutError extends NetworkError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number, options: RegkitErrorOptions = {}) {
    super(`${what} timed out after ${timeoutMs} ms`, { code: "TIMEOUT", ...options });
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's `AbortSignal` ended the operation. */
export class AbortedError extends RegkitError {
  constructor(message = "operation aborted", options: RegkitErrorOptions = {}) {
    super(message, { code: "ABORTED", category: "network", ...options });
  }
}

/** The registry answered with a server error (5xx) after the retries (exit code 7). */
export class ServerError extends RegkitError {
  constructor(message: string, options: RegkitErrorOptions = {}) {
    super(message, { code: "SERVER", category: "server", retryable: true, ...options });
  }
}

/** Calls to a registry are held back after repeated failures until its circuit breaker closes (exit code 7). */
export class CircuitOpenError extends RegkitError {
  readonly retryAt: Date;
  constructor(origin: string, retryAt: Date) {
    super(`circuit open for ${origin}: failing fast until ${retryAt.toISOString()}`, {
      code: "CIRCUIT_OPEN",
      category: "circuit-open",
    });
    this.retryAt = retryAt;
  }
}

/** An index has no image for the platform asked (exit code 3). */
export class PlatformNotFoundError extends RegkitError {
  readonly requested: string;
  readonly available: string[];
  constructor(requested: string, available: string[]) {
    super(
      `no manifest for platform ${requested}; available: ${available.length > 0 ? available.join(", ") : "none"}`,
      { code: "PLATFORM_NOT_FOUND", category: "not-found" },
    );
    this.requested = requested;
    this.available = available;
  }
}

/** Exit codes of the command-line contract in DESIGN.md. */
export function exitCodeFor(error: unknown): number {
  if (!isRegkitError(error)) return 1;
  switch (error.category) {
    case "usage":
    case "invalid":
      return 2;
    case "not-found":
      return 3;
    case "authentication":
    case "authorization":
      return 4;
    case "rate-limit":
    case "quota":
      return 5;
    case "integrity":
      return 6;
    case "network":
    case "server":
    case "circuit-open":
      return 7;
    default:
      return 1;
  }
}

export function truncate(value: string, max = 120): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
