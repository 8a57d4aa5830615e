import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { request as undiciRequest } from "undici";
import { describe, expect, it } from "vitest";
import {
  AbortedError,
  InvalidInputError,
  NetworkError,
  NotFoundError,
  ProtocolError,
  TimeoutError,
} from "../core/errors.js";
import { toTransportError } from "./transportError.js";
import type { HttpRequest } from "./types.js";

const request: HttpRequest = {
  method: "GET",
  url: new URL("https://registry.test:5000/v2/secret-repo/blobs/x?token=hunter2"),
  headers: { authorization: "Bearer hunter2" },
};

function coded(code: string, message = `failure ${code}`): Error {
  return Object.assign(new Error(message), { code });
}

describe("toTransportError", () => {
  it.each([
    ["ECONNREFUSED", NetworkError, "GET https://registry.test:5000: ECONNREFUSED", true],
    ["ECONNRESET", NetworkError, "GET https://registry.test:5000: ECONNRESET", true],
    ["EPIPE", NetworkError, "GET https://registry.test:5000: EPIPE", true],
    ["ENOTFOUND", NetworkError, "GET https://registry.test:5000: ENOTFOUND", true],
    ["UND_ERR_SOCKET", NetworkError, "GET https://registry.test:5000: UND_ERR_SOCKET", true],
    ["UND_ERR_CLOSED", NetworkError, "GET https://registry.test:5000: UND_ERR_CLOSED", true],
    [
      "UND_ERR_HEADERS_TIMEOUT",
      TimeoutError,
      "GET https://registry.test:5000: waiting for the response timed out after 1500 ms",
      true,
    ],
    [
      "UND_ERR_BODY_TIMEOUT",
      TimeoutError,
      "GET https://registry.test:5000: response body idle timed out after 2500 ms",
      true,
    ],
    [
      "UND_ERR_CONNECT_TIMEOUT",
      TimeoutError,
      "GET https://registry.test:5000: connecting timed out after 700 ms",
      true,
    ],
    ["UND_ERR_ABORTED", AbortedError, "GET https://registry.test:5000: aborted", false],
    [
      "UND_ERR_INVALID_ARG",
      InvalidInputError,
      "GET https://registry.test:5000: invalid request: failure UND_ERR_INVALID_ARG",
      false,
    ],
    [
      "UND_ERR_REQ_CONTENT_LENGTH_MISMATCH",
      InvalidInputError,
      "GET https://registry.test:5000: request body length differs from its Content-Length",
      false,
    ],
    ["HPE_INVALID_CONSTANT", ProtocolError, "GET https://registry.test:5000: malformed HTTP response", true],
    [
      "DEPTH_ZERO_SELF_SIGNED_CERT",
      NetworkError,
      "GET https://registry.test:5000: TLS verification failed (DEPTH_ZERO_SELF_SIGNED_CERT); trust the CA with NODE_EXTRA_CA_CERTS, or if registry.test:5000 serves plain HTTP, allow that with --insecure-registry registry.test:5000",
      false,
    ],
    [
      "ERR_SSL_WRONG_VERSION_NUMBER",
      NetworkError,
      "GET https://registry.test:5000: TLS handshake failed (ERR_SSL_WRONG_VERSION_NUMBER); the server may not speak HTTPS: if registry.test:5000 serves plain HTTP, allow that with --insecure-registry registry.test:5000",
      false,
    ],
  ] as const)("%s → %s", (code, type, message, retryable) => {
    const mapped = toTransportError(coded(code), request, { connectMs: 700, headersMs: 1500, idleMs: 2500 });
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.message).toBe(message);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.cause).toBeInstanceOf(Error);
  });

  it("never puts the path, the query or a header in the message", () => {
    for (const code of ["ECONNRESET", "UND_ERR_HEADERS_TIMEOUT", "SOMETHING_NEW", "HPE_X"]) {
      const message = toTransportError(coded(code, `failed at ${request.url.href}`), request).message;
      expect(message).not.toMatch(/hunter2|secret-repo|blobs/);
    }
  });

  it("reads the code of a wrapped cause", () => {
    const wrapped = new Error("fetch failed", { cause: coded("ECONNREFUSED") });
    expect(toTransportError(wrapped, request).message).toBe("GET https://registry.test:5000: ECONNREFUSED");
  });

  it("treats anything after an aborted signal as an abort", () => {
    const controller = new AbortController();
    controller.abort();
    const mapped = toTransportError(coded("ECONNRESET"), { ...request, signal: controller.signal });
    expect(mapped).toBeInstanceOf(AbortedError);
  });

  it("keeps RegkitErrors as they are", () => {
    const original = new NotFoundError("blob unknown");
    expect(toTransportError(original, request)).toBe(original);
  });

  it("does not invite retries for errors without a code, and survives non-errors", () => {
    const plain = toTransportError(new Error("disk read failed"), request);
    expect(plain).toBeInstanceOf(NetworkError);
    expect(plain.retryable).toBe(false);
    expect(plain.message).toBe("GET https://registry.test:5000: disk read failed");
    expect(toTransportError(undefined, request).message).toBe(
      "GET https://registry.test:5000: request failed",
    );
    expect(toTransportError("socket hang up", request).message).toBe(
      "GET https://registry.test:5000: socket hang up",
    );
  });
});

describe("a real TLS handshake with a plain-HTTP server", () => {
  it("names --insecure-registry HOST for a non-loopback host, and not for loopback", async () => {
    // A real failure: undici speaks TLS to a server that answers plain HTTP on 127.0.0.1.
    const server = createServer((_req, res) => res.end("plain"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const failure = await undiciRequest(`https://127.0.0.1:${port}/v2/`).then(
      () => undefined,
      (error: unknown) => error,
    );
    server.close();
    expect(failure).toBeInstanceOf(Error);
    // The same failure as if the host were a registry elsewhere: the decision is made on the host asked for.
    const remote = toTransportError(failure, {
      method: "GET",
      url: new URL("https://registry.example.com:5000/v2/"),
      headers: {},
    });
    expect(remote).toBeInstanceOf(NetworkError);
    expect(remote.code).toBe("TLS");
    expect(remote.message).toMatch(
      /^GET https:\/\/registry\.example\.com:5000: TLS handshake failed \([A-Z_]+\); the server may not speak HTTPS: if registry\.example\.com:5000 serves plain HTTP, allow that with --insecure-registry registry\.example\.com:5000$/,
    );
    const local = toTransportError(failure, {
      method: "GET",
      url: new URL(`https://127.0.0.1:${port}/v2/`),
      headers: {},
    });
    expect(local.code).toBe("TLS");
    expect(local.message).not.toContain("--insecure-registry");
  });
});
