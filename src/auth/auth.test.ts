import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRegkitError, ProtocolError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import { createTransport } from "../transport/index.js";
import { EndpointPolicy } from "../transport/scheme.js";
import type { HttpRequest, HttpResponse } from "../transport/types.js";
import { authMiddleware } from "./authMiddleware.js";
import { parseChallenges, pickChallenge } from "./challenge.js";
import {
  basic,
  DOCKER_HUB_CONFIG_KEY,
  environmentCredentials,
  normalizeRegistryKey,
  staticCredentials,
} from "./credentials.js";
import { DockerConfig } from "./dockerConfig.js";
import { mergeScopes, scopesCover } from "./scope.js";
import { TokenCache } from "./tokenCache.js";
import { fetchToken, realmUrl, type Token } from "./tokenService.js";

describe("WWW-Authenticate", () => {
  it.each([
    [
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:samalba/my-app:pull,push"',
      [
        {
          scheme: "bearer",
          params: {
            realm: "https://auth.docker.io/token",
            service: "registry.docker.io",
            scope: "repository:samalba/my-app:pull,push",
          },
        },
      ],
    ],
    ['Basic realm="Registry Realm"', [{ scheme: "basic", params: { realm: "Registry Realm" } }]],
    [
      'Bearer realm="https://r/token", error="insufficient_scope", Basic realm="x, \\"quoted\\""',
      [
        { scheme: "bearer", params: { realm: "https://r/token", error: "insufficient_scope" } },
        { scheme: "basic", params: { realm: 'x, "quoted"' } },
      ],
    ],
    [
      "Negotiate, Basic realm=simple",
      [
        { scheme: "negotiate", params: {} },
        { scheme: "basic", params: { realm: "simple" } },
      ],
    ],
    [
      "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
      [{ scheme: "basic", params: { token68: "YWxhZGRpbjpvcGVuc2VzYW1l" } }],
    ],
  ])("%s", (header, expected) => {
    expect(parseChallenges(header)).toEqual(expected);
  });

  it.each(['Bearer realm="unterminated', "", 'Bearer realm="a" junk', "=x"])("rejects %j", (header) => {
    expect(() => parseChallenges(header)).toThrow(/malformed WWW-Authenticate/);
  });

  it("prefers Bearer, needs a realm, and refuses unknown schemes", () => {
    expect(pickChallenge(parseChallenges('Basic realm="a", Bearer realm="b"')).scheme).toBe("bearer");
    expect(() => pickChallenge(parseChallenges('Bearer service="x"'))).toThrow(/without a realm/);
    expect(() => pickChallenge(parseChallenges("Negotiate abc"))).toThrow(
      /unsupported authentication scheme negotiate/,
    );
  });

  it("throws only RegkitErrors on arbitrary headers", () => {
    const headerish = fc.stringMatching(/^[A-Za-z ="',\\:/.-]{0,60}$/);
    fc.assert(
      fc.property(fc.oneof(fc.string(), headerish), (header) => {
        try {
          pickChallenge(parseChallenges(header));
        } catch (error) {
          expect(isRegkitError(error)).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("scopes", () => {
  it("merges actions per resource into a stable set", () => {
    expect(
      mergeScopes(["repository:b:push", "repository:a:pull", "repository:b:pull", "repository:a:pull"]),
    ).toEqual(["repository:a:pull", "repository:b:pull,push"]);
    expect(mergeScopes(["repository:host:5000/x:pull registry:catalog:*"])).toEqual([
      "registry:catalog:*",
      "repository:host:5000/x:pull",
    ]);
  });

  it("knows when granted scopes cover wanted ones", () => {
    expect(scopesCover(["repository:a:pull,push"], ["repository:a:pull"])).toBe(true);
    expect(scopesCover(["repository:a:pull"], ["repository:a:pull,push"])).toBe(false);
    expect(scopesCover(["repository:a:*"], ["repository:a:delete"])).toBe(true);
    expect(scopesCover([], [])).toBe(true);
  });
});

describe("token cache", () => {
  const token = (expiresAt: number): Token => ({ token: new SecretString("t"), expiresAt });

  it("single-flights concurrent requests for one scope set and reuses covering tokens", async () => {
    const cache = new TokenCache(() => 0);
    let fetches = 0;
    let release: (value: Token) => void = () => undefined;
    const held = new Promise<Token>((resolve) => {
      release = resolve;
    });
    const fetch = () => {
      fetches++;
      return held;
    };
    // Every caller asks while the first token request is still held open.
    const waiting = Array.from({ length: 8 }, () => cache.get("o", "s", ["repository:a:pull,push"], fetch));
    release(token(120_000));
    const results = await Promise.all(waiting);
    expect(new Set(results).size).toBe(1);
    expect(fetches).toBe(1);
    await cache.get("o", "s", ["repository:a:pull"], fetch);
    expect(fetches).toBe(1);
  });

  it("refreshes 30 s before expiry and forgets invalidated tokens", async () => {
    let now = 0;
    const cache = new TokenCache(() => now);
    let fetches = 0;
    const fetch = async () => token(++fetches * 100_000);
    const first = await cache.get("o", "s", ["x:y:pull"], fetch);
    now = 69_000;
    expect(await cache.get("o", "s", ["x:y:pull"], fetch)).toBe(first);
    now = 71_000;
    const second = await cache.get("o", "s", ["x:y:pull"], fetch);
    expect(second).not.toBe(first);
    cache.invalidate("o", "s", second);
    expect(cache.find("o", "s", ["x:y:pull"])).toBeUndefined();
  });
});

describe("auth middleware single-flight", () => {
  it("sends one token request for concurrent challenged requests, held until all of them wait", async () => {
    const clients = 6;
    let challenged = 0;
    let tokenRequests = 0;
    let release: () => void = () => undefined;
    const allChallenged = new Promise<void>((resolve) => {
      release = resolve;
    });
    const answer = (req: HttpRequest, status: number, headers: Record<string, string>, body = "") => ({
      status,
      headers,
      body: Readable.from([Buffer.from(body)]),
      url: req.url,
      request: req,
    });
    const registry = async (req: HttpRequest): Promise<HttpResponse> => {
      if (req.url.pathname === "/token") {
        tokenRequests++;
        expect(req.url.searchParams.getAll("scope")).toEqual(["repository:a/b:pull"]);
        // The token answer waits until every client has been challenged and is asking for a token.
        await allChallenged;
        return answer(req, 200, { "content-type": "application/json" }, '{"token":"T1","expires_in":300}');
      }
      if (req.headers.authorization === "Bearer T1") return answer(req, 200, {});
      if (++challenged === clients) release();
      return answer(req, 401, {
        "www-authenticate": 'Bearer realm="https://registry.test/token",service="svc"',
      });
    };
    const seen: string[][] = [];
    const send = authMiddleware({
      credentials: staticCredentials({ "registry.test": basic("alice", "pw") }),
      onTokenRequest: ({ scopes }) => seen.push(scopes),
    }).wrap(registry);
    const responses = await Promise.all(
      Array.from({ length: clients }, () =>
        send({
          method: "GET",
          url: new URL("https://registry.test/v2/a/b/tags/list"),
          headers: {},
          scopes: ["repository:a/b:pull"],
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(clients).fill(200));
    expect(challenged).toBe(clients);
    expect(tokenRequests).toBe(1);
    expect(seen).toEqual([["repository:a/b:pull"]]);
    // The next request carries the cached token from the start: no 401, no token request.
    const again = await send({
      method: "GET",
      url: new URL("https://registry.test/v2/a/b/manifests/v1"),
      headers: {},
      scopes: ["repository:a/b:pull"],
    });
    expect(again.status).toBe(200);
    expect(challenged).toBe(clients);
    expect(tokenRequests).toBe(1);
  });
});

describe("token service", () => {
  let server: Server;
  let base: string;
  let body = "";
  let status = 200;
  const transport = createTransport();
  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const request = () =>
    fetchToken({
      realm: `${base}/token`,
      service: "s",
      scopes: ["repository:a:pull"],
      credential: basic("u", "p"),
      registry: "r",
      send: transport.send,
      policy: new EndpointPolicy(),
      now: () => 1_000_000,
    });

  it("accepts token or access_token and applies the 60 s minimum", async () => {
    status = 200;
    body = JSON.stringify({ access_token: "abc", expires_in: 10 });
    const token = await request();
    expect(token.token.reveal()).toBe("abc");
    expect(token.expiresAt).toBe(1_000_000 + 60_000);
  });

  it.each([
    [200, "{}", /has no token/],
    [200, "not json", /not valid JSON/],
    [401, "{}", /rejected the credentials/],
    [500, "{}", /HTTP 500/],
  ])("status %i body %s → typed error", async (code, text, message) => {
    status = code;
    body = text;
    const error = await request().catch((e: unknown) => e);
    expect(isRegkitError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("p@");
  });

  it("refuses plain-HTTP realms except where plain HTTP is allowed", () => {
    expect(() => realmUrl("http://auth.example.com/token", new EndpointPolicy(), "r")).toThrow(ProtocolError);
    expect(
      realmUrl(
        "http://auth.example.com/token",
        new EndpointPolicy({ insecureHosts: ["auth.example.com"] }),
        "r",
      ).host,
    ).toBe("auth.example.com");
    expect(() => realmUrl("https://user:pw@auth.example.com/", new EndpointPolicy(), "r")).toThrow(
      /carries credentials/,
    );
  });

  it("refuses a plain-HTTP realm for an HTTPS registry, even on loopback; another host over HTTPS is fine", () => {
    expect(() => realmUrl("http://127.0.0.1:5001/token", new EndpointPolicy(), "r", true)).toThrow(
      /plain HTTP .* for a registry served over HTTPS/,
    );
    expect(realmUrl("http://127.0.0.1:5001/token", new EndpointPolicy(), "r", false).host).toBe(
      "127.0.0.1:5001",
    );
    expect(realmUrl("https://auth.example.com/token", new EndpointPolicy(), "r", true).host).toBe(
      "auth.example.com",
    );
  });
});

describe("credential sources", () => {
  it("normalizes registry keys, Docker Hub's many names to one", () => {
    for (const key of [
      "docker.io",
      "index.docker.io",
      "registry-1.docker.io",
      "https://index.docker.io/v1/",
    ]) {
      expect(normalizeRegistryKey(key)).toBe(DOCKER_HUB_CONFIG_KEY);
    }
    expect(normalizeRegistryKey("https://ghcr.io/v2/")).toBe("ghcr.io");
  });

  it("reads Docker Hub and GHCR credentials from the environment", async () => {
    const env = {
      DOCKER_HUB_USERNAME: "d",
      DOCKER_HUB_ACCESS_TOKEN: "pat",
      GITHUB_TOKEN: "ght",
      GITHUB_ACTOR: "octo",
    };
    const hub = await environmentCredentials(env).resolve({ registry: "docker.io" });
    expect(hub?.source).toBe("environment (DOCKER_HUB_USERNAME, DOCKER_HUB_ACCESS_TOKEN)");
    expect(hub?.credential.kind === "basic" && hub.credential.password.reveal()).toBe("pat");
    const gh = await environmentCredentials(env).resolve({ registry: "ghcr.io" });
    expect(gh?.credential.kind === "basic" && gh.credential.username).toBe("octo");
    expect(await environmentCredentials(env).resolve({ registry: "quay.io" })).toBeUndefined();
  });

  it("reads, writes and erases Docker config entries with mode 0600", async () => {
    const dir = await mkdtemp(join(tmpdir(), "regkit-config-"));
    try {
      const path = join(dir, "config.json");
      await writeFile(
        path,
        JSON.stringify({
          auths: {
            "https://index.docker.io/v1/": { auth: Buffer.from("hubuser:hubpass").toString("base64") },
            "token.example": { identitytoken: "refresh-me" },
            "bad.example": { auth: Buffer.from("nocolon").toString("base64") },
          },
          other: "kept",
        }),
      );
      const config = new DockerConfig(path);
      const hub = await config.resolve({ registry: "docker.io" });
      expect(hub?.credential.kind === "basic" && hub.credential.username).toBe("hubuser");
      expect((await config.resolve({ registry: "token.example" }))?.credential.kind).toBe("identity-token");
      await expect(config.resolve({ registry: "bad.example" })).rejects.toThrow(/not base64 user:password/);
      expect(await config.resolve({ registry: "none.example" })).toBeUndefined();
      await config.store("127.0.0.1:5000", basic("me", "pw"));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      const written = JSON.parse(await readFile(path, "utf8"));
      expect(written.other).toBe("kept");
      expect(written.auths["127.0.0.1:5000"].auth).toBe(Buffer.from("me:pw").toString("base64"));
      expect(await config.erase("127.0.0.1:5000")).toBe(true);
      expect(await config.erase("127.0.0.1:5000")).toBe(false);
      await writeFile(path, "{not json");
      await expect(config.resolve({ registry: "x" })).rejects.toThrow(/not a valid Docker config file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
