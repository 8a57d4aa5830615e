import {
  AbortedError,
  InvalidInputError,
  isRegkitError,
  NetworkError,
  ProtocolError,
  RegkitError,
  TimeoutError,
} from "../core/errors.js";
import { isLoopbackHost } from "./scheme.js";
import type { HttpRequest } from "./types.js";

/** The limits in force for one request, so a timeout names the value that fired. */
export interface EffectiveTimeouts {
  connectMs: number;
  headersMs: number;
  idleMs: number;
}

const ABORT_CODES = new Set(["UND_ERR_ABORTED", "UND_ERR_ABORT", "ABORT_ERR"]);

/** The server speaks TLS but its certificate is not trusted. */
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

/**
 * Maps undici and system errors to the RegkitError hierarchy. Messages name
 * the method and origin only: never the path, the query (which may carry
 * tokens) or any header.
 */
export function toTransportError(
  error: unknown,
  request: HttpRequest,
  timeouts: Partial<EffectiveTimeouts> = {},
): RegkitError {
  if (isRegkitError(error)) return error;
  const where = `${request.method} ${request.url.origin}`;
  const err = (typeof error === "object" && error !== null ? error : {}) as {
    name?: unknown;
    cause?: unknown;
  };
  const code = errorCode(err) ?? errorCode(err.cause);
  const options = { cause: error };

  if (request.signal?.aborted || err.name === "AbortError" || (code !== undefined && ABORT_CODES.has(code))) {
    return new AbortedError(`${where}: aborted`, options);
  }
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new TimeoutError(`${where}: connecting`, timeouts.connectMs ?? 10_000, options);
    case "UND_ERR_HEADERS_TIMEOUT":
      return new TimeoutError(`${where}: waiting for the response`, timeouts.headersMs ?? 30_000, options);
    case "UND_ERR_BODY_TIMEOUT":
      return new TimeoutError(`${where}: response body idle`, timeouts.idleMs ?? 300_000, options);
    case "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH":
      return new InvalidInputError(`${where}: request body length differs from its Content-Length`, options);
    case "UND_ERR_INVALID_ARG":
    case "UND_ERR_NOT_SUPPORTED":
      // undici names the offending option or header, never its value.
      return new InvalidInputError(`${where}: invalid request: ${shortMessage(error)}`, options);
    case "UND_ERR_HEADERS_OVERFLOW":
    case "UND_ERR_INFO":
      return new ProtocolError(`${where}: malformed HTTP response`, { ...options, retryable: true });
  }
  if (code === undefined) {
    // No code: not from the network stack (a caller's request body stream failed, say); no retry.
    return new NetworkError(`${where}: ${shortMessage(error)}`, { ...options, retryable: false });
  }
  if (code.startsWith("HPE_")) {
    return new ProtocolError(`${where}: malformed HTTP response`, { ...options, retryable: true });
  }
  // Loopback hosts may use plain HTTP already (and are probed for TLS): naming them insecure would not help.
  const host = request.url.host;
  const plainHttp = isLoopbackHost(host)
    ? ""
    : `: if ${host} serves plain HTTP, allow that with --insecure-registry ${host}`;
  if (CERTIFICATE.test(code)) {
    return new NetworkError(
      `${where}: TLS verification failed (${code}); trust the CA with NODE_EXTRA_CA_CERTS${plainHttp ? `, or${plainHttp.slice(1)}` : ""}`,
      { ...options, retryable: false, code: "TLS" },
    );
  }
  if (code === "EPROTO" || /SSL|TLS/.test(code)) {
    return new NetworkError(
      `${where}: TLS handshake failed (${code}); the server may not speak HTTPS${plainHttp}`,
      {
        ...options,
        retryable: false,
        code: "TLS",
      },
    );
  }
  return new NetworkError(`${where}: ${code}`, options);
}

/**
 * A request that failed because its body stream failed: the fault is
 * whoever feeds the body (the source of a copy), not the server the request
 * went to. Not retried here and never counted against that server's breaker;
 * `cause` is the body's own error.
 */
export class RequestBodyError extends RegkitError {
  constructor(request: HttpRequest, cause: Error) {
    const base = isRegkitError(cause) ? cause : undefined;
    super(`${request.method} ${request.url.origin}: request body failed: ${cause.message}`, {
      code: "REQUEST_BODY",
      category: base?.category ?? "network",
      retryable: false,
      cause,
    });
  }
}

/** Whether a failure came from the request body rather than from the server or the network to it. */
export function isRequestBodyFault(error: unknown): error is RequestBodyError {
  return isRegkitError(error) && error.code === "REQUEST_BODY";
}

function errorCode(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

function shortMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : typeof error === "string" ? error : "";
  return message.slice(0, 200) || "request failed";
}
