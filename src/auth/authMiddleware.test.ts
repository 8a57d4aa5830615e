/**
 * The auth middleware and token cache, one behaviour per test, against a scripted registry
 * peer: each test says what the registry answers (challenge, token, refusal) and asserts what
 * the middleware sends and returns. The integration suites cover the same code against real
 * registries; these are the cases a real registry cannot be made to show on demand.
 */
import { Readable } from "node:stream";
import { SpanStatusCode } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import {
  AuthenticationError,
  AuthorizationError,
  CredentialsRejectedError,
  ProtocolError,
} from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import { EndpointPolicy } from "../transport/scheme.js";
import type { HttpRequest, HttpResponse } from "../transport/types.js";
import { type AuthOptions, authMiddleware } from "./authMiddleware.js";
import { basic, type Credential, type CredentialProvider, staticCredentials } from "./credentials.js";
import { REFRESH_MARGIN_MS, TokenCache } from "./tokenCache.js";
import type { Token } from "./tokenService.js";

const REALM = "https://registry.test/token";
const BEARER = `Bearer realm="${REALM}",service="svc"`;

interface Sent {
  path: string;
  authorization: string | undefined;
  scopes: string[];
}

/** A response whose body records whether the middleware released it. */
function answer(req: HttpRequest, status: number, headers: Record<string, string> = {}, body = "") {
  const stream = Readable.from([Buffer.from(body)]);
  const response: HttpResponse & { released: () => boolean } = {
    status,
    headers,
    body: stream,
    url: req.url,
    request: req,
    released: () => stream.destroyed || stream.readableEnded,
  };
  return response;
}

/**
 * A registry at https://registry.test: `route` answers registry requests; the token endpoint
 * issues `T<n>` for the n-th token request unless `token` says otherwise.
 */
function peer(
  route: (req: HttpRequest, sent: Sent[]) => HttpResponse,
  token: (req: HttpRequest, n: number) => HttpResponse = (req, n) =>
    answer(req, 200, {}, JSON.stringify({ token: `T${n}`, expires_in: 300 })),
) {
  const sent: Sent[] = [];
  const tokens: HttpRequest[] = [];
  const handler = async (req: HttpRequest): Promise<HttpResponse> => {
    if (req.url.pathname === "/token") {
      tokens.push(req);
      return token(req, tokens.length);
    }
    sent.push({
      path: req.url.pathname,
      authorization: req.headers.authorization,
      scopes: req.url.searchParams.getAll("scope"),
    });
    return route(req, sent);
  };
  return { handler, sent, tokens };
}

/** Accepts `Bearer <accepted>` and challenges everything else with `challenge`. */
const bearerGuard =
  (accepted: string, challenge = BEARER) =>
  (req: HttpRequest) =>
    req.headers.authorization === `Bearer ${accepted}`
      ? answer(req, 200, {}, "ok")
      : answer(req, 401, { "www-authenticate": challenge });

const get = (path = "/v2/a/b/tags/list", extra: Partial<HttpRequest> = {}): HttpRequest => ({
  method: "GET",
  url: new URL(`https://registry.test${path}`),
  headers: {},
  scopes: ["repository:a/b:pull"],
  ...extra,
});

const alice = staticCredentials({ "registry.test": basic("alice", "pw") }, "test credentials");

function counting(credential: Credential | undefined): CredentialProvider & { calls: () => number } {
  let calls = 0;
  return {
    name: "counting",
    calls: () => calls,
    async resolve() {
      calls++;
      return credential ? { credential, source: "counting source" } : undefined;
    },
  };
}

const wrap = (handler: (req: HttpRequest) => Promise<HttpResponse>, options: AuthOptions = {}) =>
  authMiddleware(options).wrap(handler);

describe("auth middleware: Bearer challenges", () => {
  it("answers a challenge with a token for the request's scopes, sent with the credentials", async () => {
    const registry = peer(bearerGuard("T1"));
    const response = await wrap(registry.handler, { credentials: alice })(get());
    expect(response.status).toBe(200);
    expect(registry.sent.map((s) => s.authorization)).toEqual([undefined, "Bearer T1"]);
    expect(registry.tokens).toHaveLength(1);
    const token = registry.tokens[0]!;
    expect(token.url.searchParams.get("service")).toBe("svc");
    expect(token.url.searchParams.getAll("scope")).toEqual(["repository:a/b:pull"]);
    expect(token.headers.authorization).toBe(`Basic ${Buffer.from("alice:pw").toString("base64")}`);
  });

  it("adds the scope the challenge names to the request's own", async () => {
    const registry = peer(bearerGuard("T1", `${BEARER},scope="repository:c/d:push"`));
    const seen: string[][] = [];
    const send = wrap(registry.handler, { onTokenRequest: ({ scopes }) => seen.push(scopes) });
    expect((await send(get())).status).toBe(200);
    expect(registry.tokens[0]!.url.searchParams.getAll("scope")).toEqual([
      "repository:a/b:pull",
      "repository:c/d:push",
    ]);
    expect(seen).toEqual([["repository:a/b:pull", "repository:c/d:push"]]);
  });

  it("reports each token request with its origin, service and scopes", async () => {
    const registry = peer(bearerGuard("T1"));
    const seen: unknown[] = [];
    await wrap(registry.handler, { onTokenRequest: (info) => seen.push(info) })(get());
    expect(seen).toEqual([
      { origin: "https://registry.test", service: "svc", scopes: ["repository:a/b:pull"] },
    ]);
  });

  it("sends later requests with the cached token up front, and releases every refused body", async () => {
    const responses: Array<ReturnType<typeof answer>> = [];
    const registry = peer((req) => {
      const response = bearerGuard("T1")(req);
      responses.push(response);
      return response;
    });
    const send = wrap(registry.handler);
    await send(get());
    await send(get("/v2/a/b/manifests/v1"));
    expect(registry.sent.map((s) => [s.path, s.authorization])).toEqual([
      ["/v2/a/b/tags/list", undefined],
      ["/v2/a/b/tags/list", "Bearer T1"],
      ["/v2/a/b/manifests/v1", "Bearer T1"],
    ]);
    expect(responses[0]!.released()).toBe(true);
    expect(registry.tokens).toHaveLength(1);
  });

  it("fetches a new token when the registry refuses the cached one", async () => {
    let accepted = "T1";
    const registry = peer((req) => bearerGuard(accepted, `${BEARER},error="invalid_token"`)(req));
    const cache = new TokenCache();
    const send = wrap(registry.handler, { cache });
    expect((await send(get())).status).toBe(200);
    accepted = "T2"; // T1 revoked
    expect((await send(get())).status).toBe(200);
    expect(registry.sent.map((s) => s.authorization)).toEqual([
      undefined,
      "Bearer T1",
      "Bearer T1",
      "Bearer T2",
    ]);
    // The refused token left the cache: only T2 is there now.
    expect(cache.find("https://registry.test", "svc", ["repository:a/b:pull"])?.token.reveal()).toBe("T2");
  });

  it("uses challenges known in advance for the first request", async () => {
    const registry = peer(bearerGuard("T1"));
    const send = wrap(registry.handler, {
      challenges: { "https://registry.test": { scheme: "bearer", params: { realm: REALM, service: "svc" } } },
    });
    expect((await send(get())).status).toBe(200);
    expect(registry.sent.map((s) => s.authorization)).toEqual(["Bearer T1"]);
    // A challenge known for another origin does not apply here.
    const other = peer(bearerGuard("T1"));
    const elsewhere = wrap(other.handler, {
      challenges: { "https://elsewhere.test": { scheme: "bearer", params: { realm: REALM } } },
    });
    await elsewhere(get());
    expect(other.sent.map((s) => s.authorization)).toEqual([undefined, "Bearer T1"]);
  });

  it("sends a registry token credential as it is, without a token request", async () => {
    const registry = peer(bearerGuard("RT"));
    const credentials = staticCredentials({
      "registry.test": { kind: "registry-token", token: new SecretString("RT") },
    });
    expect((await wrap(registry.handler, { credentials })(get())).status).toBe(200);
    expect(registry.tokens).toHaveLength(0);
    expect(registry.sent.map((s) => s.authorization)).toEqual([undefined, "Bearer RT"]);
  });

  it("resolves an origin's credentials once", async () => {
    const registry = peer((req) =>
      /^Bearer T\d$/.test(req.headers.authorization ?? "") ? answer(req, 200) : bearerGuard("T1")(req),
    );
    const credentials = counting(basic("alice", "pw"));
    const send = wrap(registry.handler, { credentials });
    await send(get());
    await send(get("/v2/x/y/tags/list", { scopes: ["repository:x/y:pull"] }));
    expect(registry.tokens).toHaveLength(2);
    expect(credentials.calls()).toBe(1);
  });

  it("leaves requests that carry their own authorization, and anonymous probes, alone", async () => {
    const registry = peer(bearerGuard("T1"));
    const send = wrap(registry.handler, { credentials: alice });
    const own = await send(get("/v2/a/b/tags/list", { headers: { authorization: "Bearer mine" } }));
    expect(own.status).toBe(401);
    const probe = await send(get("/v2/", { anonymous: true }));
    expect(probe.status).toBe(401);
    expect(registry.sent.map((s) => s.authorization)).toEqual(["Bearer mine", undefined]);
    expect(registry.tokens).toHaveLength(0);
  });

  it("returns a 401 without a challenge, and any other status, as it is", async () => {
    const registry = peer((req) => answer(req, req.url.pathname.endsWith("list") ? 401 : 404));
    const send = wrap(registry.handler, { credentials: alice });
    expect((await send(get())).status).toBe(401);
    expect((await send(get("/v2/a/b/manifests/x"))).status).toBe(404);
    expect(registry.sent).toHaveLength(2);
    expect(registry.tokens).toHaveLength(0);
  });

  it("turns a malformed challenge into a ProtocolError naming the registry, releasing the body", async () => {
    let refused: ReturnType<typeof answer> | undefined;
    const registry = peer((req) => {
      refused = answer(req, 401, { "www-authenticate": 'Bearer realm="unterminated' }, "denied");
      return refused;
    });
    const error = await wrap(registry.handler)(get()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect((error as ProtocolError).status).toBe(401);
    expect((error as Error).message).toMatch(/^registry\.test: malformed WWW-Authenticate/);
    expect(refused!.released()).toBe(true);
  });

  it("refuses to re-send a streamed body after a challenge, releasing the 401", async () => {
    let refused: ReturnType<typeof answer> | undefined;
    const registry = peer((req) => {
      refused = bearerGuard("T1")(req);
      return refused;
    });
    const request = get("/v2/a/b/blobs/uploads/x", { method: "PUT", body: Readable.from(["layer"]) });
    const error = await wrap(registry.handler)(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as AuthenticationError).status).toBe(401);
    expect((error as Error).message).toBe(
      "registry.test asked for authentication after a streamed body was sent; it cannot be sent again",
    );
    expect(refused!.released()).toBe(true);
    expect(registry.tokens).toHaveLength(0);
    // A body that can be sent again is sent again.
    const replayable = peer(bearerGuard("T1"));
    const bytes = await wrap(replayable.handler)(
      get("/v2/a/b/blobs/uploads/x", { method: "PUT", body: "layer" }),
    );
    expect(bytes.status).toBe(200);
  });

  it("names the credential source when the token service rejects the credentials", async () => {
    const registry = peer(bearerGuard("T1"), (req) => answer(req, 401));
    const error = await wrap(registry.handler, { credentials: alice })(get()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialsRejectedError);
    expect((error as AuthenticationError).status).toBe(401);
    expect((error as Error).message).toBe(
      "registry.test rejected the credentials from test credentials (wrong user name, password or token)",
    );
    // The token service's own answer stays reachable for -vv and logs.
    expect((error as Error).cause).toBeInstanceOf(AuthenticationError);
    // Without credentials the token service's own message stands.
    const anonymous = peer(bearerGuard("T1"), (req) => answer(req, 401));
    const plain = await wrap(anonymous.handler)(get()).catch((e: unknown) => e);
    expect((plain as Error).message).toBe(
      "authentication to registry.test failed: the registry requires credentials",
    );
    // Other token-service errors pass through unchanged, credentials or not.
    const denied = peer(bearerGuard("T1"), (req) => answer(req, 403));
    const forbidden = await wrap(denied.handler, { credentials: alice })(get()).catch((e: unknown) => e);
    expect(forbidden).toBeInstanceOf(AuthorizationError);
    expect((forbidden as Error).message).toBe(
      "registry.test: the token service denied access to repository:a/b:pull",
    );
  });

  it("reports a token that lacks the scope as an authorization error of the credentials", async () => {
    const insufficient = `${BEARER},error="insufficient_scope"`;
    const registry = peer((req) => answer(req, 401, { "www-authenticate": insufficient }));
    const two = get("/v2/a/b/tags/list", { scopes: ["repository:a/b:pull", "repository:c/d:pull"] });
    const error = await wrap(registry.handler, { credentials: alice })(two).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthorizationError);
    expect((error as AuthorizationError).code).toBe("DENIED");
    expect((error as AuthorizationError).status).toBe(401);
    expect((error as Error).message).toBe(
      "registry.test: the credentials from test credentials do not grant repository:a/b:pull repository:c/d:pull",
    );
    // Unquoted and in another case it is the same error; a request without scopes names itself.
    const bare = peer((req) =>
      answer(req, 401, { "www-authenticate": `${BEARER},error=INSUFFICIENT_SCOPE` }),
    );
    const unscoped = await wrap(bare.handler, { credentials: alice })(get("/v2/", { scopes: [] })).catch(
      (e: unknown) => e,
    );
    expect((unscoped as Error).message).toBe(
      "registry.test: the credentials from test credentials do not grant this request",
    );
    // Anonymous, the 401 is the answer: logging in may help.
    const anonymous = peer((req) => answer(req, 401, { "www-authenticate": insufficient }));
    expect((await wrap(anonymous.handler)(get())).status).toBe(401);
    // Another refusal of the new token is returned as it is, credentials or not.
    const invalid = peer((req) =>
      answer(req, 401, { "www-authenticate": `${BEARER},error="invalid_token"` }),
    );
    expect((await wrap(invalid.handler, { credentials: alice })(get())).status).toBe(401);
    // So is a 401 to a registry token held as the credential: no token was issued to judge.
    const held = peer((req) => answer(req, 401, { "www-authenticate": insufficient }));
    const credentials = staticCredentials({
      "registry.test": { kind: "registry-token", token: new SecretString("RT") },
    });
    expect((await wrap(held.handler, { credentials })(get())).status).toBe(401);
    // And a 401 without any challenge after the token.
    const silent = peer((req) => (req.headers.authorization ? answer(req, 401) : bearerGuard("T1")(req)));
    expect((await wrap(silent.handler, { credentials: alice })(get())).status).toBe(401);
  });

  it("answers only 401s: another status carrying a challenge is returned as it is", async () => {
    const registry = peer((req) => answer(req, 403, { "www-authenticate": BEARER }));
    expect((await wrap(registry.handler, { credentials: alice })(get())).status).toBe(403);
    expect(registry.sent).toHaveLength(1);
    expect(registry.tokens).toHaveLength(0);
  });

  it("asks for a token without scopes for a request that names none", async () => {
    const registry = peer(bearerGuard("T1"));
    const { scopes: _, ...unscoped } = get("/v2/");
    expect((await wrap(registry.handler)(unscoped)).status).toBe(200);
    expect(registry.tokens[0]!.url.searchParams.getAll("scope")).toEqual([]);
  });

  it("refuses a plain-HTTP token realm unless its policy allows the host", async () => {
    const plain = 'Bearer realm="http://auth.test/token",service="svc"';
    const registry = peer(bearerGuard("T1", plain));
    await expect(wrap(registry.handler)(get())).rejects.toThrow(/refusing a token realm over plain HTTP/);
    const allowed = peer(bearerGuard("T1", plain));
    const policy = new EndpointPolicy({ insecureHosts: ["auth.test"] });
    expect((await wrap(allowed.handler, { policy })(get())).status).toBe(200);
  });

  it("takes a plain-HTTP loopback realm for a plain-HTTP registry, but for an HTTPS one only where the user named its host", async () => {
    const plain = 'Bearer realm="http://127.0.0.1:5001/token",service="svc"';
    const onLoopback = (url: string) => ({ ...get(), url: new URL(url) });
    const local = peer(bearerGuard("T1", plain));
    expect((await wrap(local.handler)(onLoopback("http://127.0.0.1:5000/v2/a/b/tags/list"))).status).toBe(
      200,
    );
    const https = peer(bearerGuard("T1", plain));
    await expect(wrap(https.handler)(onLoopback("https://127.0.0.1:5000/v2/a/b/tags/list"))).rejects.toThrow(
      /refusing a token realm over plain HTTP \(http:\/\/127\.0\.0\.1:5001\) for a registry served over HTTPS/,
    );
    expect(https.tokens).toEqual([]);
    const named = peer(bearerGuard("T1", plain));
    const policy = new EndpointPolicy({ insecureHosts: ["127.0.0.1:5001"] });
    const answered = await wrap(named.handler, { policy })(
      onLoopback("https://127.0.0.1:5000/v2/a/b/tags/list"),
    );
    expect(answered.status).toBe(200);
  });

  it("fails a request whose token cannot be had for a challenge the registry sent, without sending it anonymously", async () => {
    const registry = peer(bearerGuard("T1"), (req, n) =>
      n === 1 ? answer(req, 200, {}, JSON.stringify({ token: "T1", expires_in: 300 })) : answer(req, 503),
    );
    const send = wrap(registry.handler);
    expect((await send(get())).status).toBe(200);
    expect(registry.sent).toHaveLength(2);
    // Another repository needs a token of its own, which the token service no longer gives.
    await expect(send({ ...get(), scopes: ["repository:c/d:pull"] })).rejects.toThrow();
    expect(registry.sent).toHaveLength(2);
  });

  it("falls back to the registry's own challenge when a token service known in advance gives none", async () => {
    const dead = {
      scheme: "bearer" as const,
      params: { realm: "https://registry.test/dead", service: "svc" },
    };
    const challenged = peer((req) =>
      req.url.pathname === "/dead" ? answer(req, 503) : bearerGuard("T1")(req),
    );
    const send = wrap(challenged.handler, { challenges: { "https://registry.test": dead } });
    expect((await send(get())).status).toBe(200);
    // The presumed token service failed; the request went anonymous, the registry's challenge answered.
    expect(challenged.sent.map((s) => [s.path, s.authorization])).toEqual([
      ["/dead", undefined],
      ["/v2/a/b/tags/list", undefined],
      ["/v2/a/b/tags/list", "Bearer T1"],
    ]);
    expect(challenged.tokens).toHaveLength(1);
    // A public registry answers the anonymous request: the dead service is not asked again.
    const open = peer((req) =>
      req.url.pathname === "/dead" ? answer(req, 503) : answer(req, 200, {}, "ok"),
    );
    const sendOpen = wrap(open.handler, { challenges: { "https://registry.test": dead } });
    expect((await sendOpen(get())).status).toBe(200);
    expect((await sendOpen(get("/v2/a/b/manifests/v1"))).status).toBe(200);
    expect(open.sent.map((s) => [s.path, s.authorization])).toEqual([
      ["/dead", undefined],
      ["/v2/a/b/tags/list", undefined],
      ["/v2/a/b/manifests/v1", undefined],
    ]);
  });

  it("is the pipeline's auth link", () => {
    expect(authMiddleware().name).toBe("auth");
  });

  it("traces each token request, with its error when it fails", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const good = peer(bearerGuard("T1", `${BEARER},scope="repository:c/d:push"`));
    await wrap(good.handler, { tracerProvider })(get());
    const bad = peer(bearerGuard("T1"), (req) => answer(req, 500));
    await expect(wrap(bad.handler, { tracerProvider })(get())).rejects.toThrow(/HTTP 500/);
    const [ok, failed] = spans.getFinishedSpans();
    expect(spans.getFinishedSpans()).toHaveLength(2);
    expect(ok!.name).toBe("auth.token");
    expect(ok!.instrumentationScope.name).toBe("regkit");
    expect(ok!.attributes).toEqual({
      "server.address": "registry.test",
      "regkit.scopes": "repository:a/b:pull repository:c/d:push",
    });
    expect(ok!.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(failed!.status).toEqual({
      code: SpanStatusCode.ERROR,
      message: "registry.test: token service answered HTTP 500",
    });
    expect(failed!.events.map((e) => e.name)).toEqual(["exception"]);
    await tracerProvider.shutdown();
  });
});

describe("auth middleware: Basic challenges", () => {
  const basicGuard = (req: HttpRequest) =>
    req.headers.authorization === `Basic ${Buffer.from("alice:pw").toString("base64")}`
      ? answer(req, 200)
      : answer(req, 401, { "www-authenticate": 'Basic realm="regkit"' });

  it("answers with the origin's Basic credentials, up front from then on", async () => {
    const registry = peer(basicGuard);
    const send = wrap(registry.handler, { credentials: alice });
    expect((await send(get())).status).toBe(200);
    expect((await send(get())).status).toBe(200);
    const header = `Basic ${Buffer.from("alice:pw").toString("base64")}`;
    expect(registry.sent.map((s) => s.authorization)).toEqual([undefined, header, header]);
  });

  it("follows a registry that switches between Basic and Bearer: a new scheme is no refusal of the credentials", async () => {
    let mode: "basic" | "bearer" = "basic";
    const switching = peer((req) => (mode === "basic" ? basicGuard(req) : bearerGuard("T1")(req)));
    const send = wrap(switching.handler, { credentials: alice });
    expect((await send(get())).status).toBe(200);
    mode = "bearer"; // Basic credentials sent up front now meet a token challenge.
    expect((await send(get())).status).toBe(200);
    mode = "basic"; // and a token sent up front meets a Basic challenge.
    expect((await send(get())).status).toBe(200);
    const header = `Basic ${Buffer.from("alice:pw").toString("base64")}`;
    expect(switching.sent.map((s) => s.authorization)).toEqual([
      undefined,
      header,
      header,
      "Bearer T1",
      "Bearer T1",
      header,
    ]);
  });

  it("returns the 401 when there are no Basic credentials; refused ones are an error naming their source", async () => {
    const none = peer(basicGuard);
    expect((await wrap(none.handler)(get())).status).toBe(401);
    expect(none.sent).toHaveLength(1);
    const token = peer(basicGuard);
    const credentials = staticCredentials({
      "registry.test": { kind: "registry-token", token: new SecretString("RT") },
    });
    expect((await wrap(token.handler, { credentials })(get())).status).toBe(401);
    expect(token.sent).toHaveLength(1);
    const wrong = peer(basicGuard);
    const send = wrap(wrong.handler, {
      credentials: staticCredentials({ "registry.test": basic("alice", "no") }),
    });
    const refused = new CredentialsRejectedError("registry.test", "options");
    await expect(send(get())).rejects.toThrow(refused);
    await expect(send(get())).rejects.toThrow(refused);
    // The first request learns the challenge and answers it once; the second sends the credentials up front once.
    expect(wrong.sent).toHaveLength(3);
  });

  it("returns the 401 to a streamed body when no Basic credentials could answer it", async () => {
    for (const credentials of [
      undefined,
      counting({ kind: "registry-token", token: new SecretString("RT") }),
    ]) {
      const registry = peer(basicGuard);
      const request = get("/v2/a/b/blobs/uploads/x", { method: "PUT", body: Readable.from(["layer"]) });
      expect((await wrap(registry.handler, { credentials })(request)).status).toBe(401);
      expect(registry.sent).toHaveLength(1);
    }
  });

  it("does not send Basic credentials up front when none are held", async () => {
    const registry = peer(basicGuard);
    const send = wrap(registry.handler, { credentials: counting(undefined) });
    await send(get());
    await send(get());
    expect(registry.sent.map((s) => s.authorization)).toEqual([undefined, undefined]);
  });
});

describe("token cache", () => {
  const token = (name: string, expiresAt: number): Token => ({ token: new SecretString(name), expiresAt });

  it("keys tokens by origin, service and scopes", () => {
    expect(TokenCache.key("https://r", "svc", ["a", "b"])).toBe("https://r svc a b");
    expect(TokenCache.key("https://r", undefined, [])).toBe("https://r  ");
  });

  it("keeps tokens apart per origin and service", async () => {
    const cache = new TokenCache(() => 0);
    await cache.get("o", "s", ["x:y:pull"], async () => token("A", 600_000));
    expect(cache.find("o", "s", ["x:y:pull"])?.token.reveal()).toBe("A");
    expect(cache.find("o", "other", ["x:y:pull"])).toBeUndefined();
    expect(cache.find("p", "s", ["x:y:pull"])).toBeUndefined();
    expect(cache.find("o", undefined, ["x:y:pull"])).toBeUndefined();
    expect(new TokenCache().find("o", "s", [])).toBeUndefined();
  });

  it("counts a token as fresh until the refresh margin before its expiry", async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    await cache.get("o", "s", ["x:y:pull"], async () => token("A", 100_000));
    now = 100_000 - REFRESH_MARGIN_MS - 1;
    expect(cache.find("o", "s", ["x:y:pull"])?.token.reveal()).toBe("A");
    now = 100_000 - REFRESH_MARGIN_MS;
    expect(cache.find("o", "s", ["x:y:pull"])).toBeUndefined();
  });

  it("reuses a token only for scopes it covers", async () => {
    const cache = new TokenCache(() => 0);
    let fetches = 0;
    const fetch = async () => token(`T${++fetches}`, 600_000);
    await cache.get("o", "s", ["repository:a:pull"], fetch);
    const push = await cache.get("o", "s", ["repository:a:pull,push"], fetch);
    expect(push.token.reveal()).toBe("T2");
    expect(fetches).toBe(2);
    // Both stay: a pull is served by either, and a new token for one scope set replaces only its own.
    expect(cache.find("o", "s", ["repository:a:pull"])?.token.reveal()).toBe("T1");
    await cache.get("o", "s", ["repository:b:pull"], fetch);
    expect(cache.find("o", "s", ["repository:a:pull,push"])?.token.reveal()).toBe("T2");
  });

  it("single-flights per scope set, not across them", async () => {
    const cache = new TokenCache(() => 0);
    let fetches = 0;
    const fetch = async () => token(`T${++fetches}`, 600_000);
    const [a, b] = await Promise.all([
      cache.get("o", "s", ["repository:a:pull"], fetch),
      cache.get("o", "s", ["repository:b:pull"], fetch),
    ]);
    expect([a.token.reveal(), b.token.reveal()]).toEqual(["T1", "T2"]);
  });

  it("asks again after a failed token request instead of repeating its failure", async () => {
    const cache = new TokenCache(() => 0);
    await expect(
      cache.get("o", "s", ["x:y:pull"], async () => {
        throw new Error("token service down");
      }),
    ).rejects.toThrow("token service down");
    const next = await cache.get("o", "s", ["x:y:pull"], async () => token("B", 600_000));
    expect(next.token.reveal()).toBe("B");
  });

  it("invalidates only the refused token", async () => {
    const cache = new TokenCache(() => 0);
    const a = await cache.get("o", "s", ["repository:a:pull"], async () => token("A", 600_000));
    await cache.get("o", "s", ["repository:b:pull"], async () => token("B", 600_000));
    cache.invalidate("o", "s", a);
    expect(cache.find("o", "s", ["repository:a:pull"])).toBeUndefined();
    expect(cache.find("o", "s", ["repository:b:pull"])?.token.reveal()).toBe("B");
    cache.invalidate("o", "other", a); // an empty bucket stays harmless
    expect(cache.find("o", "other", ["repository:b:pull"])).toBeUndefined();
  });

  it("finds and invalidates tokens of a registry whose challenge names no service", async () => {
    const cache = new TokenCache(() => 0);
    const a = await cache.get("o", undefined, ["repository:a:pull"], async () => token("A", 600_000));
    expect(cache.find("o", undefined, ["repository:a:pull"])).toBe(a);
    expect(cache.find("o", "", ["repository:a:pull"])).toBe(a);
    cache.invalidate("o", undefined, a);
    expect(cache.find("o", undefined, ["repository:a:pull"])).toBeUndefined();
  });
});
