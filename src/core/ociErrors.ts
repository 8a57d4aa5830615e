import { z } from "zod";
import {
  AuthenticationError,
  AuthorizationError,
  NotFoundError,
  type OciErrorEntry,
  ProtocolError,
  RateLimitError,
  type RegkitError,
  type RegkitErrorOptions,
  ServerError,
  truncate,
  UnsupportedError,
} from "./errors.js";

const envelope = z.object({
  errors: z.array(
    z.object({
      code: z.string().max(256),
      message: z.string().max(4096).optional(),
      detail: z.unknown().optional(),
    }),
  ),
});

/** What a bare status means, for responses without an OCI error body (HEAD, proxies). */
const STATUS_TEXT: Record<number, string> = {
  401: "UNAUTHORIZED: authentication required",
  403: "DENIED: access denied",
  404: "NOT_FOUND: not found",
  413: "SIZE_INVALID: request body too large",
  429: "TOOMANYREQUESTS: rate limited",
};

/** Parses `{"errors":[{code,message,detail}]}`; anything else yields no entries. */
export function parseOciErrorBody(body: string): OciErrorEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [];
  }
  const parsed = envelope.safeParse(json);
  return parsed.success ? parsed.data.errors.slice(0, 32) : [];
}

export interface HttpErrorContext {
  /** What was being done, e.g. `GET manifest library/alpine:3.20`. Never contains secrets. */
  operation: string;
  status: number;
  body?: string;
  /** What a non-OCI API said (Docker Hub's `detail`, GitHub's `message`), used when the body has no OCI errors. */
  message?: string;
  provider?: string;
  /** The registry asked, so an authentication error can say where to log in. */
  registry?: string;
  retryAfterMs?: number;
  resetAt?: Date;
}

/** Turns a failed registry response into the matching typed error. */
export function errorFromResponse(ctx: HttpErrorContext): RegkitError {
  const ociErrors = ctx.body === undefined ? [] : parseOciErrorBody(ctx.body);
  const first = ociErrors[0];
  const detail = first
    ? `${first.code}${first.message ? `: ${truncate(first.message, 200)}` : ""}`
    : ctx.message
      ? `${STATUS_TEXT[ctx.status]?.split(":")[0] ?? `HTTP ${ctx.status}`}: ${truncate(ctx.message, 200)}`
      : (STATUS_TEXT[ctx.status] ?? `HTTP ${ctx.status}`);
  const message = `${ctx.operation}: ${detail}`;
  const options: RegkitErrorOptions = {
    status: ctx.status,
    ociErrors,
    ...(first ? { code: first.code } : {}),
    ...(ctx.provider ? { provider: ctx.provider } : {}),
  };
  const code = first?.code;
  if (ctx.status === 429 || code === "TOOMANYREQUESTS") {
    return new RateLimitError(message, {
      ...options,
      ...(ctx.retryAfterMs !== undefined ? { retryAfterMs: ctx.retryAfterMs } : {}),
      ...(ctx.resetAt ? { resetAt: ctx.resetAt } : {}),
    });
  }
  if (ctx.status === 401 || code === "UNAUTHORIZED")
    return new AuthenticationError(message, {
      ...options,
      ...(ctx.registry ? { registry: ctx.registry } : {}),
    });
  if (ctx.status === 403 || code === "DENIED") return new AuthorizationError(message, options);
  if (ctx.status === 404 || code?.endsWith("_UNKNOWN")) return new NotFoundError(message, options);
  // The registry's limit is not known here (its message may say): report what it answered.
  if (ctx.status === 413) return new ProtocolError(message, { ...options, code: code ?? "SIZE_INVALID" });
  if (ctx.status === 405 || code === "UNSUPPORTED") return new UnsupportedError(message, options);
  if (ctx.status >= 500) return new ServerError(message, { ...options, retryable: ctx.status !== 501 });
  // The registry checked what we sent and it did not match its digest: an integrity failure.
  if (code === "DIGEST_INVALID")
    return new ProtocolError(message, { ...options, code, category: "integrity" });
  return new ProtocolError(message, { ...options, code: code ?? `HTTP_${ctx.status}`, category: "invalid" });
}
