/**
 * The Hub API session against the Docker Hub fake (in-process, on loopback):
 * password and PAT logins, the token's states on a fake clock, renewal
 * before expiry, single-flight logins, invalidation after a 401, and every
 * way a login fails. Scripted answers only where the fake cannot misbehave
 * (a 200 without a token, an opaque token, other second-factor wordings).
 */
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import {
  ACCOUNTS,
  ALICE_PAT,
  type HubFakeServer,
  loginAs,
  scripted,
  startHubFake,
  unsignedJwt,
  useHubFake,
} from "../../../test/support/hubTestbed.js";
import { thrown } from "../../../test/support/thrown.js";
import {
  AuthenticationError,
  AuthorizationError,
  ProtocolError,
  RateLimitError,
  ServerError,
} from "../../core/errors.js";
import { jwtExpiry } from "./hubSession.js";

const T0 = new Date("2026-03-01T12:00:00Z").getTime();
let hub: HubFakeServer;
const client = useHubFake({}, (started) => {
  hub = started;
});

/** The token of a `Bearer` value. */
const bearer = (authorization: string | undefined) => /^Bearer (\S+)$/.exec(authorization ?? "")?.[1] ?? "";

describe("jwtExpiry", () => {
  it("reads exp (seconds) as milliseconds, without verifying the token", () => {
    expect(jwtExpiry(unsignedJwt({ exp: 1_772_366_400 }))).toBe(1_772_366_400_000);
    expect(jwtExpiry(unsignedJwt({ exp: 0.5 }))).toBe(500);
  });

  it("is undefined for tokens it cannot read an expiry from", () => {
    expect(jwtExpiry("opaque")).toBeUndefined();
    expect(jwtExpiry("head..sig")).toBeUndefined();
    expect(jwtExpiry("head.!!not-json!!.sig")).toBeUndefined();
    expect(jwtExpiry(unsignedJwt({ sub: "alice" }))).toBeUndefined();
    expect(jwtExpiry(unsignedJwt({ exp: "1772366400" }))).toBeUndefined();
    expect(jwtExpiry(unsignedJwt([1, 2]))).toBeUndefined();
    // JSON can spell a number too large for a double: Infinity is no expiry.
    expect(jwtExpiry(`h.${Buffer.from('{"exp":1e400}').toString("base64url")}.s`)).toBeUndefined();
  });
});

describe("HubSession: logins", () => {
  it("logs in with a password: one POST /v2/auth/token with identifier and secret, under the URL however it ends", async () => {
    const c = client({ login: loginAs("alice") }, `${hub.hubUrl}///`);
    const before = hub.fake.logins;
    expect(c.session.state()).toBe("anonymous");
    const authorization = await c.session.authorization();
    expect(authorization).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
    expect(hub.fake.jwt.verify(bearer(authorization))).toMatchObject({ username: "alice", auth: "password" });
    expect(c.session.state()).toBe("valid");
    expect(c.session.logins).toBe(1);
    expect(hub.fake.logins).toBe(before + 1);
    expect(c.sent).toHaveLength(1);
    const [login] = c.sent;
    expect(login!.method).toBe("POST");
    expect(login!.url.href).toBe(`${hub.hubUrl}/v2/auth/token`);
    expect(login!.headers).toEqual({ "content-type": "application/json", accept: "application/json" });
    expect(JSON.parse(String(login!.body))).toEqual({ identifier: "alice", secret: ACCOUNTS.alice });
    expect(login!.operation).toBe("hub.login");
    expect(login!.anonymous).toBe(true);
    // A valid token is reused: no second login.
    expect(await c.session.authorization()).toBe(authorization);
    expect(c.session.logins).toBe(1);
    expect(c.sent).toHaveLength(1);
  });

  it("logs in with a personal access token; identity names the user and source, asking for the login once", async () => {
    const c = client({ login: loginAs("alice", ALICE_PAT) });
    expect(await c.session.identity()).toEqual({ username: "alice", source: "unit test" });
    const token = bearer(await c.session.authorization());
    expect(hub.fake.jwt.verify(token)).toMatchObject({ username: "alice", auth: "pat" });
    expect(await c.session.identity()).toEqual({ username: "alice", source: "unit test" });
    expect(c.loginCalls()).toBe(1);
  });

  it("without credentials it stays anonymous and sends nothing", async () => {
    const c = client();
    expect(await c.session.authorization()).toBeUndefined();
    expect(await c.session.identity()).toBeUndefined();
    expect(c.session.state()).toBe("anonymous");
    expect(c.session.logins).toBe(0);
    expect(c.sent).toHaveLength(0);
  });

  it("traces a login as docker.auth.login with the user and the Hub's host, not the secret", async () => {
    const spans = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    const c = client({ login: loginAs("alice"), tracerProvider });
    await c.session.authorization();
    const login = spans.getFinishedSpans().filter((s) => s.name === "docker.auth.login");
    expect(login).toHaveLength(1);
    expect(login[0]!.attributes).toEqual({
      username: "alice",
      registry: new URL(hub.hubUrl).host,
      provider: "dockerhub",
    });
    // Without telemetry the session logs in all the same.
    const untraced = client({ login: loginAs("alice"), tracerProvider, untracedSession: true });
    expect(await untraced.session.authorization()).toMatch(/^Bearer /);
    expect(spans.getFinishedSpans().filter((s) => s.name === "docker.auth.login")).toHaveLength(1);
    await tracerProvider.shutdown();
  });
});

describe("HubSession: token lifetime", () => {
  it("is valid until 30 s before exp, expiring in the last 30 s, and expired from exp on", async () => {
    let now = Date.now();
    const c = client({ login: loginAs("alice"), now: () => now });
    const exp = jwtExpiry(bearer(await c.session.authorization()))!;
    expect(exp).toBeGreaterThan(now + 590_000);
    now = exp - 30_001;
    expect(c.session.state()).toBe("valid");
    now = exp - 30_000;
    expect(c.session.state()).toBe("expiring");
    now = exp - 1;
    expect(c.session.state()).toBe("expiring");
    now = exp;
    expect(c.session.state()).toBe("expired");
    now = exp + 60_000;
    expect(c.session.state()).toBe("expired");
  });

  it("renews an expiring or expired token with a new login before it is used (fake clock)", async () => {
    // Session and fake read the same fake Date: the clock moves, nothing sleeps.
    vi.useFakeTimers({ toFake: ["Date"], now: T0 });
    const c = client({ login: loginAs("alice") });
    const first = await c.session.authorization();
    expect(jwtExpiry(bearer(first))).toBe(T0 + 600_000);
    vi.setSystemTime(T0 + 569_999);
    expect(await c.session.authorization()).toBe(first);
    expect(c.session.logins).toBe(1);
    vi.setSystemTime(T0 + 570_000);
    const second = await c.session.authorization();
    expect(second).not.toBe(first);
    expect(jwtExpiry(bearer(second))).toBe(T0 + 1_170_000);
    expect(c.session.state()).toBe("valid");
    expect(c.session.logins).toBe(2);
    vi.setSystemTime(T0 + 1_170_000);
    expect(c.session.state()).toBe("expired");
    const third = await c.session.authorization();
    expect(hub.fake.jwt.verify(bearer(third))).toMatchObject({ username: "alice" });
    expect(c.session.logins).toBe(3);
    expect(c.sent.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
  });

  it("a token without exp lives 10 minutes from its login", async () => {
    let now = T0;
    const { send } = scripted(() => ({ body: { access_token: "opaque-hub-token" } }));
    const c = client({ login: loginAs("alice"), send, now: () => now });
    expect(await c.session.authorization()).toBe("Bearer opaque-hub-token");
    now = T0 + 600_000 - 30_001;
    expect(c.session.state()).toBe("valid");
    now = T0 + 600_000 - 30_000;
    expect(c.session.state()).toBe("expiring");
    now = T0 + 600_000;
    expect(c.session.state()).toBe("expired");
  });

  it("concurrent callers share one login, and so do concurrent renewals", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: T0 });
    const c = client({ login: loginAs("alice") });
    const first = await Promise.all(Array.from({ length: 5 }, () => c.session.authorization()));
    expect(new Set(first).size).toBe(1);
    expect(first[0]).toMatch(/^Bearer /);
    expect(c.session.logins).toBe(1);
    vi.setSystemTime(T0 + 600_000);
    const renewed = await Promise.all(Array.from({ length: 5 }, () => c.session.authorization()));
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(first[0]);
    expect(c.session.logins).toBe(2);
    expect(c.sent).toHaveLength(2);
  });

  it("invalidate forgets only the token that was refused", async () => {
    const c = client({ login: loginAs("alice") });
    c.session.invalidate("Bearer some-other-token");
    expect(c.session.state()).toBe("anonymous");
    const current = (await c.session.authorization())!;
    c.session.invalidate("Bearer some-older-token");
    expect(c.session.state()).toBe("valid");
    expect(await c.session.authorization()).toBe(current);
    expect(c.session.logins).toBe(1);
    c.session.invalidate(current);
    expect(c.session.state()).toBe("anonymous");
    const next = await c.session.authorization();
    expect(next).toMatch(/^Bearer /);
    expect(next).not.toBe(current);
    expect(c.session.logins).toBe(2);
  });
});

describe("HubSession: failed logins", () => {
  it("a wrong password is an authentication error naming the user and the source, never the secret", async () => {
    const c = client({ login: loginAs("alice", "not-her-password") });
    const error = await thrown(c.session.authorization());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      "Docker Hub login as alice failed: Incorrect authentication credentials (credentials from unit test)",
    );
    expect(error).toMatchObject({ status: 401, provider: "dockerhub", code: "UNAUTHORIZED" });
    expect(c.session.state()).toBe("anonymous");
    // A failed login is not remembered: the next call tries again (with the same result).
    await expect(c.session.authorization()).rejects.toThrow(/login as alice failed/);
    expect(c.session.logins).toBe(2);
  });

  it("concurrent callers share a failed login too", async () => {
    const c = client({ login: loginAs("bob", "wrong") });
    const errors = await Promise.all(Array.from({ length: 3 }, () => thrown(c.session.authorization())));
    expect(new Set(errors).size).toBe(1);
    expect(c.session.logins).toBe(1);
  });

  it("a two-factor account's password is refused with the advice to use a personal access token", async () => {
    const c = client({ login: loginAs("carol") });
    const error = await thrown(c.session.authorization());
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error.message).toBe(
      "Docker Hub login as carol needs a second factor: use a personal access token instead of the password (credentials from unit test)",
    );
    expect(error).toMatchObject({ status: 401, provider: "dockerhub", code: "TWO_FACTOR_REQUIRED" });
  });

  it("recognises Docker Hub's second-factor answers by token or wording, and only those", async () => {
    const outcome = async (body: unknown) => {
      const { send } = scripted(() => ({ status: 401, body }));
      const error = await thrown(client({ login: loginAs("dave", "pw"), send }).session.authorization());
      expect(error).toBeInstanceOf(AuthenticationError);
      return `${error.code} ${error.message.replace(/ \(credentials from unit test\)$/, "")}`;
    };
    const twoFactor =
      "TWO_FACTOR_REQUIRED Docker Hub login as dave needs a second factor: use a personal access token instead of the password";
    expect(await outcome({ detail: "login refused", login_2fa_token: "tfa" })).toBe(twoFactor);
    expect(await outcome({ detail: "Two-Factor authentication is on" })).toBe(twoFactor);
    expect(await outcome({ detail: "needs 2FA" })).toBe(twoFactor);
    expect(await outcome({ message: "Require Secondary Authentication" })).toBe(twoFactor);
    expect(await outcome({ detail: "MFA enabled account" })).toBe(twoFactor);
    expect(await outcome({ detail: "account locked", login_2fa_token: 7 })).toBe(
      "UNAUTHORIZED Docker Hub login as dave failed: account locked",
    );
    // An answer too large to be an error body is not read: no reason, and no second factor either.
    expect(await outcome({ detail: "2FA".padEnd(70_000, ".") })).toBe(
      "UNAUTHORIZED Docker Hub login as dave failed: incorrect credentials",
    );
    expect(await outcome("not json")).toBe(
      "UNAUTHORIZED Docker Hub login as dave failed: incorrect credentials",
    );
    expect(await outcome({})).toBe("UNAUTHORIZED Docker Hub login as dave failed: incorrect credentials");
  });

  it("a 200 without a usable access_token is a protocol error; a token in a 401 is not taken", async () => {
    for (const body of [
      { token: "legacy-shape" },
      { access_token: "" },
      { access_token: 42 },
      "<html>ok</html>",
    ]) {
      const { send } = scripted(() => ({ body }));
      const c = client({ login: loginAs("alice"), send });
      const error = await thrown(c.session.authorization());
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({
        message: "Docker Hub login: answer without access_token",
        provider: "dockerhub",
      });
      expect(c.session.state()).toBe("anonymous");
    }
    const { send } = scripted(() => ({ status: 401, body: { access_token: "smuggled", detail: "no" } }));
    const c = client({ login: loginAs("alice"), send });
    await expect(c.session.authorization()).rejects.toBeInstanceOf(AuthenticationError);
    expect(c.session.state()).toBe("anonymous");
  });

  it("other failed logins are typed by status with Docker Hub's reason; the next call logs in afresh", async () => {
    const LOGIN = "/hub/v2/auth/token";
    const failing = await startHubFake({
      faults: [
        { kind: "status", status: 503, route: LOGIN, times: 1 },
        { kind: "status", status: 429, retryAfter: 7, route: LOGIN, times: 1 },
        { kind: "status", status: 403, route: LOGIN, times: 1 },
      ],
    });
    onTestFinished(() => failing.close());
    const c = client({ login: loginAs("alice") }, failing.hubUrl);
    const unavailable = await thrown(c.session.authorization());
    expect(unavailable).toBeInstanceOf(ServerError);
    expect(unavailable.message).toBe("login on Docker Hub: HTTP 503");
    expect(unavailable).toMatchObject({ status: 503, provider: "dockerhub" });
    expect(await thrown(c.session.authorization())).toBeInstanceOf(RateLimitError);
    expect(await thrown(c.session.authorization())).toBeInstanceOf(AuthorizationError);
    expect(await c.session.authorization()).toMatch(/^Bearer /);
    expect(c.session.logins).toBe(4);
    expect(failing.log()).toEqual([
      `POST ${LOGIN} 503`,
      `POST ${LOGIN} 429`,
      `POST ${LOGIN} 403`,
      `POST ${LOGIN} 200`,
    ]);
    // Docker Hub's own reason is kept.
    const { send } = scripted(() => ({ status: 500, body: { detail: "the Hub is down" } }));
    const down = await thrown(client({ login: loginAs("alice"), send }).session.authorization());
    expect(down).toBeInstanceOf(ServerError);
    expect(down.message).toBe("login on Docker Hub: HTTP 500: the Hub is down");
  });
});
