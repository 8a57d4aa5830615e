/**
 * The Hub API client against the Docker Hub fake (in-process, on loopback):
 * what each request carries, every page of a listing, details, search,
 * tags, deletes and scans, the one re-login after a 401, Docker Hub's
 * errors as typed errors, and answers of the wrong shape. Scripted answers
 * only for what the fake never sends (next links that loop, leave the
 * origin or do not parse).
 */
import { Writable } from "node:stream";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import {
  type HubFakeServer,
  type hubClient,
  loginAs,
  scripted,
  useHubFake,
} from "../../../test/support/hubTestbed.js";
import { all, thrown } from "../../../test/support/thrown.js";
import type { Digest } from "../../core/digest.js";
import {
  AuthenticationError,
  AuthorizationError,
  NotFoundError,
  ProtocolError,
  RateLimitError,
} from "../../core/errors.js";
import type { HubCall } from "./hubClient.js";

const LIST = "/hub/v2/namespaces/alice/repositories";
const T0 = new Date("2026-03-01T12:00:00Z").getTime();
let hub: HubFakeServer;
const client = useHubFake(
  {
    seed: true,
    faults: [
      {
        kind: "status",
        status: 401,
        route: "/^/hub/v2/namespaces/alice/repositories/aa/tags/v1$/",
        times: 2,
      },
      { kind: "status", status: 401, route: "/^/hub/v2/namespaces/library/repositories/alpine$/", times: 1 },
      {
        kind: "status",
        status: 429,
        retryAfter: 7,
        route: "/^/hub/v2/namespaces/bobby/repositories$/",
        times: 1,
      },
      { kind: "truncate", bytes: 10, route: "/^/hub/v2/namespaces/alice/repositories/aa/tags$/", times: 1 },
    ],
  },
  (started) => {
    hub = started;
  },
);
const alice = (options: Parameters<typeof hubClient>[1] = {}) =>
  client({ login: loginAs("alice"), ...options });
/** The requests the fake saw for a path, as `METHOD status`. */
const seen = (path: string) =>
  hub
    .log()
    .filter((line) => line.split(" ")[1] === path)
    .map((line) => `${line.split(" ")[0]} ${line.split(" ")[2]}`);

describe("HubClient: requests", () => {
  it("asks for JSON with the bearer token from the first request, and sends bodies as JSON, under the URL however it ends", async () => {
    const c = client({ login: loginAs("alice") }, `${hub.hubUrl}///`);
    const created = await c.api.createRepository("alice/made", { isPrivate: true, description: "d" });
    expect(created).toMatchObject({ repository: "alice/made", isPrivate: true, description: "d" });
    expect(c.sent.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "POST /hub/v2/auth/token",
      "POST /hub/v2/namespaces/alice/repositories",
    ]);
    const create = c.sent[1]!;
    expect(create.url.href).toBe(`${hub.hubUrl}/v2/namespaces/alice/repositories`);
    const authorization = await c.session.authorization();
    expect(create.headers).toEqual({
      accept: "application/json",
      authorization,
      "content-type": "application/json",
    });
    expect(JSON.parse(String(create.body))).toEqual({
      name: "made",
      namespace: "alice",
      registry: "docker.io",
      is_private: true,
      description: "d",
    });
    expect(create.operation).toBe("create repository alice/made");
    expect(create.anonymous).toBeUndefined();
    await c.api.repository("alice/made");
    const get = c.sent[2]!;
    expect(get.headers).toEqual({ accept: "application/json", authorization });
    expect(get.body).toBeUndefined();
  });

  it("anonymous calls go without credentials and are marked anonymous (no registry challenge dance)", async () => {
    const c = client();
    expect((await c.api.repository("alice/aa")).repository).toBe("alice/aa");
    expect(c.sent).toHaveLength(1);
    expect(c.sent[0]!.headers).toEqual({ accept: "application/json" });
    expect(c.sent[0]!.anonymous).toBe(true);
    expect(c.sent[0]!.operation).toBe("get repository alice/aa");
  });

  it("a call that needs credentials fails before anything is sent", async () => {
    const c = client();
    const error = await thrown(c.api.deleteTag("alice/aa", "v1"));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      "delete tag alice/aa:v1: needs Docker Hub credentials (DOCKER_HUB_USERNAME with DOCKER_HUB_ACCESS_TOKEN, or regkit login docker.io)",
    );
    expect(error.provider).toBe("dockerhub");
    expect(c.sent).toHaveLength(0);
  });

  it("leaves unset query values out, and takes a URL as the path", async () => {
    const c = alice();
    const schema = z.object({ count: z.number(), results: z.array(z.object({ name: z.string() })) });
    const call: HubCall = {
      method: "GET",
      path: "v2/namespaces/alice/repositories",
      query: { name: undefined, ordering: "-name", page_size: "2" },
      expect: [200],
      operation: "list",
      auth: "required",
    };
    const page = await c.client.json(call, schema);
    expect(page.results.map((r) => r.name)).toEqual(["cc", "bb"]);
    expect(c.sent[1]!.url.href).toBe(
      `${hub.hubUrl}/v2/namespaces/alice/repositories?ordering=-name&page_size=2`,
    );
    const absolute = new URL(`${hub.hubUrl}/v2/namespaces/alice/repositories?page=2&page_size=2`);
    const second = await c.client.json({ ...call, path: absolute, query: {} }, schema);
    expect(second.results.map((r) => r.name)).toEqual(["cc"]);
    expect(c.sent[2]!.url.href).toBe(absolute.href);
  });
});

describe("HubClient: listings, details, deletes", () => {
  it("lists every page, following next links (one span per page with its count, one log line at the end)", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
        done();
      },
    });
    const c = alice({ tracerProvider, logger: pino({ level: "debug" }, sink) });
    const names = (await all(c.api.repositories("alice", { pageSize: 1 }))).map((r) => r.repository);
    expect(names).toEqual(["alice/aa", "alice/bb", "alice/cc"]);
    expect(c.sent.slice(1).map((r) => r.url.search)).toEqual([
      "?page_size=1",
      "?page_size=1&page=2",
      "?page_size=1&page=3",
    ]);
    const authorization = await c.session.authorization();
    for (const request of c.sent.slice(1)) {
      expect(request.headers.authorization).toBe(authorization);
      expect(request.operation).toBe("list v2/namespaces/alice/repositories");
    }
    const pages = spans.getFinishedSpans().filter((s) => s.name === "docker.repo.list");
    expect(pages.map((s) => s.attributes)).toEqual(
      [1, 1, 1].map((count) => ({ namespace: "alice", provider: "dockerhub", count })),
    );
    expect(lines.filter((l) => l.msg === "listed")).toEqual([
      expect.objectContaining({ path: "v2/namespaces/alice/repositories", count: 3, level: 20 }),
    ]);
    // Anonymous callers see the public ones only; a page past the end is not asked for.
    expect((await all(client().api.repositories("alice", { pageSize: 2 }))).map((r) => r.name)).toEqual([
      "aa",
      "bb",
    ]);
    await tracerProvider.shutdown();
  });

  it("details, tags, search and scans come back typed, as docker.* spans", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const c = alice({ tracerProvider });
    const secret = await c.api.repository("alice/cc");
    expect(secret).toMatchObject({ namespace: "alice", name: "cc", isPrivate: true });
    expect(secret.permissions).toEqual({ read: true, write: true, admin: true });
    const tags = await all(c.api.tags("alice/cc"));
    expect(tags.map((t) => t.name)).toEqual(["v1"]);
    const digest = tags[0]!.digest as Digest;
    expect((await c.api.tag("alice/cc", "v1")).digest).toBe(digest);
    const found = await all(c.api.search("alp"));
    expect(found.map((r) => [r.repository, r.official])).toEqual([["alpine", true]]);
    const scan = await c.api.scan("alice/cc", digest);
    expect(scan.status).toBe("scanned");
    expect(scan.vulnerabilities.length).toBeGreaterThan(0);
    const named = spans.getFinishedSpans().map((s) => `${s.name} ${JSON.stringify(s.attributes)}`);
    expect(named).toContain('docker.repo.get {"namespace":"alice","repository":"cc","provider":"dockerhub"}');
    expect(named).toContain('docker.tag.get {"image":"alice/cc","tag":"v1","provider":"dockerhub"}');
    expect(named).toContain(
      `docker.vulnerability.get {"image":"alice/cc","digest":"${digest}","provider":"dockerhub"}`,
    );
    await tracerProvider.shutdown();
  });

  it("deletes a tag and a repository (docker.*.delete spans); what is gone is not found", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const c = alice({ tracerProvider });
    await c.api.createRepository("alice/doomed");
    await c.api.deleteTag("alice/bb", "v1");
    await expect(c.api.tag("alice/bb", "v1")).rejects.toBeInstanceOf(NotFoundError);
    const del = c.sent.find((r) => r.method === "DELETE")!;
    expect(del.url.pathname).toBe("/hub/v2/repositories/alice/bb/tags/v1/");
    expect(del.headers).toEqual({
      accept: "application/json",
      authorization: await c.session.authorization(),
    });
    await c.api.deleteRepository("alice/doomed");
    await expect(c.api.repository("alice/doomed")).rejects.toBeInstanceOf(NotFoundError);
    const names = spans.getFinishedSpans().map((s) => `${s.name} ${JSON.stringify(s.attributes)}`);
    expect(names).toContain('docker.tag.delete {"image":"alice/bb","tag":"v1","provider":"dockerhub"}');
    expect(names).toContain(
      'docker.repo.delete {"namespace":"alice","repository":"doomed","provider":"dockerhub"}',
    );
    await tracerProvider.shutdown();
  });
});

describe("HubClient: a 401 is answered with one new login", () => {
  it("a token the Hub no longer accepts (its clock ahead of ours) is replaced once, and the call succeeds", async () => {
    // The fake reads the fake Date; the session's clock stays behind, so it still thinks its token valid.
    vi.useFakeTimers({ toFake: ["Date"], now: T0 });
    const c = alice({ now: () => T0 });
    const stale = await c.session.authorization();
    vi.setSystemTime(T0 + 601_000);
    expect(c.session.state()).toBe("valid");
    expect((await c.api.repository("alice/cc")).isPrivate).toBe(true);
    expect(c.sent.map((r) => `${r.method} ${r.url.pathname}`)).toEqual([
      "POST /hub/v2/auth/token",
      "GET /hub/v2/namespaces/alice/repositories/cc",
      "POST /hub/v2/auth/token",
      "GET /hub/v2/namespaces/alice/repositories/cc",
    ]);
    expect(c.sent[1]!.headers.authorization).toBe(stale);
    const fresh = await c.session.authorization();
    expect(fresh).not.toBe(stale);
    expect(c.sent[3]!.headers.authorization).toBe(fresh);
    expect(c.session.logins).toBe(2);
  });

  it("a second 401 is the answer: an authentication error, after exactly one re-login", async () => {
    const c = alice();
    const error = await thrown(c.api.tag("alice/aa", "v1"));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, provider: "dockerhub" });
    expect(error.message).toBe("get tag alice/aa:v1 on Docker Hub: UNAUTHORIZED: authentication required");
    expect(c.session.logins).toBe(2);
    expect(seen("/hub/v2/namespaces/alice/repositories/aa/tags/v1")).toEqual(["GET 401", "GET 401"]);
    // The burst is over: the token now in hand works without another login.
    expect((await c.api.tag("alice/aa", "v1")).name).toBe("v1");
    expect(c.session.logins).toBe(2);
  });

  it("an anonymous 401 is not retried", async () => {
    const c = client();
    await expect(c.api.repository("library/alpine")).rejects.toBeInstanceOf(AuthenticationError);
    expect(c.sent).toHaveLength(1);
    expect((await c.api.repository("library/alpine")).name).toBe("alpine");
  });

  it("the refused answer is read to its end before logging in again", async () => {
    const { send, bodies } = scripted((request, n) =>
      request.url.pathname.endsWith("/auth/token")
        ? { body: { access_token: `token-${n}` } }
        : n === 2
          ? { status: 401, body: { detail: "Token is invalid or expired" } }
          : { body: { name: "aa", namespace: "alice" } },
    );
    const c = alice({ send });
    expect((await c.api.repository("alice/aa")).name).toBe("aa");
    expect(c.sent.map((r) => r.headers.authorization)).toEqual([
      undefined,
      "Bearer token-1",
      undefined,
      "Bearer token-3",
    ]);
    expect(bodies[1]!.readableEnded).toBe(true);
  });
});

describe("HubClient: errors", () => {
  it("maps Docker Hub's answers: 403 for a private repository, 404 for none, 429 with its Retry-After", async () => {
    const c = client();
    const denied = await thrown(c.api.repository("alice/cc"));
    expect(denied).toBeInstanceOf(AuthorizationError);
    expect(denied.message).toBe(
      "get repository alice/cc on Docker Hub: DENIED: you do not have access to this repository",
    );
    const missing = await thrown(c.api.repository("alice/none"));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.message).toBe("get repository alice/none on Docker Hub: NOT_FOUND: object not found");
    // A 429 is the shared transport's to report (its rate-limit policy remembers the reset).
    const limited = await thrown(all(c.api.repositories("bobby")));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited).toMatchObject({ retryAfterMs: 7000 });
  });

  it("an answer of the wrong shape names the field; one cut short is not JSON", async () => {
    const c = alice();
    const call: HubCall = {
      method: "GET",
      path: LIST.slice(5),
      expect: [200],
      operation: "list them",
      auth: "optional",
    };
    const nested = await thrown(
      c.client.json(call, z.object({ results: z.array(z.object({ name: z.number() })) })),
    );
    expect(nested).toBeInstanceOf(ProtocolError);
    expect(nested.message).toMatch(/^list them: unexpected Docker Hub answer at results\.0\.name: ./);
    expect(nested.provider).toBe("dockerhub");
    const root = await thrown(c.client.json(call, z.array(z.unknown())));
    expect(root.message).toMatch(/^list them: unexpected Docker Hub answer at \(root\): ./);
    const cut = await thrown(all(c.api.tags("alice/aa")));
    expect(cut).toBeInstanceOf(ProtocolError);
    expect(cut.message).toBe(
      "list v2/namespaces/alice/repositories/aa/tags on Docker Hub: response is not valid JSON",
    );
  });

  it("an answer with an unexpected status is an error even when it is a success", async () => {
    const c = alice();
    const error = await thrown(
      c.client.call({
        method: "GET",
        path: LIST.slice(5),
        expect: [204],
        operation: "odd",
        auth: "optional",
      }),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ status: 200, provider: "dockerhub" });
  });
});

describe("HubClient: next links", () => {
  const repository = (name: string) => ({ name, namespace: "alice" });
  const listing = (next: (n: number) => string | null, results = (n: number) => [repository(`r${n}`)]) =>
    scripted((_request, n) => ({ body: { count: 99, next: next(n), results: results(n) } }));

  it("a relative next link is resolved against the Hub API's URL", async () => {
    const { send } = listing((n) => (n === 1 ? "/v2/namespaces/alice/repositories?page=2" : null));
    const c = client({ send }, "https://hub.example/");
    expect((await all(c.api.repositories("alice"))).map((r) => r.name)).toEqual(["r1", "r2"]);
    expect(c.sent.map((r) => r.url.href)).toEqual([
      "https://hub.example/v2/namespaces/alice/repositories?page_size=100",
      "https://hub.example/v2/namespaces/alice/repositories?page=2",
    ]);
  });

  it("a next link to another origin is refused before anything is sent there", async () => {
    const { send } = listing(() => "https://evil.example/v2/namespaces/alice/repositories?page=2");
    const c = client({ send }, "https://hub.example");
    const names: string[] = [];
    const error = await thrown(
      (async () => {
        for await (const repo of c.api.repositories("alice")) names.push(repo.name);
      })(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error.message).toBe("Docker Hub: next page points to another origin (https://evil.example)");
    expect(error.provider).toBe("dockerhub");
    expect(names).toEqual(["r1"]);
    expect(c.sent).toHaveLength(1);
  });

  it("a next link that does not parse is a protocol error", async () => {
    const { send } = listing(() => "http://[not-a-host");
    const error = await thrown(all(client({ send }, "https://hub.example").api.repositories("alice")));
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ message: "Docker Hub: invalid next-page URL", provider: "dockerhub" });
  });

  it("pages that loop are refused at the first page seen twice", async () => {
    const { send } = listing((n) =>
      n === 1
        ? "https://hub.example/v2/p2"
        : "https://hub.example/v2/namespaces/alice/repositories?page_size=100",
    );
    const c = client({ send }, "https://hub.example");
    const names: string[] = [];
    const error = await thrown(
      (async () => {
        for await (const repo of c.api.repositories("alice")) names.push(repo.name);
      })(),
    );
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      message: "Docker Hub: pagination of v2/namespaces/alice/repositories loops",
      provider: "dockerhub",
    });
    expect(names).toEqual(["r1", "r2"]);
    expect(c.sent).toHaveLength(2);
  });

  it("a next chain is cut at 10,000 pages", async () => {
    const { send } = listing(
      (n) => `https://hub.example/v2/namespaces/alice/repositories?page=${n + 1}`,
      () => [],
    );
    const c = client({ send }, "https://hub.example");
    const error = await thrown(all(c.api.repositories("alice")));
    expect(error).toMatchObject({
      message: "Docker Hub: pagination of v2/namespaces/alice/repositories loops",
    });
    expect(c.sent).toHaveLength(10_000);
  });
});
