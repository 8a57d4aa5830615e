import { AuthenticationError, ProtocolError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import type { Telemetry } from "../../registry/telemetry.js";
import { readText } from "../../transport/response.js";
import type { Handler } from "../../transport/types.js";
import { hubErrorFromBody, hubMessage, parseObject } from "./hubErrors.js";

/** Who logs in to the Hub API, and where the secret came from (never the secret in messages). */
export interface HubLogin {
  username: string;
  secret: SecretString;
  source: string;
}

/** The token state machine of the architecture document (§5.2). */
export type HubTokenState = "anonymous" | "valid" | "expiring" | "expired";

interface HubToken {
  value: SecretString;
  expiresAt: number;
}

/** Renew this long before expiry, so a request never leaves with a token about to lapse. */
const EXPIRING_MS = 30_000;
/** Docker documents 10 minutes for `/v2/auth/token`; used when the JWT carries no `exp`. */
const DEFAULT_TTL_MS = 10 * 60_000;
const MAX_BODY = 64 * 1024;

/** `exp` of a JWT, read without verifying it (the server did; we only schedule renewal). */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Hub API's bearer token: obtained by `POST /v2/auth/token` with a
 * username and a password or personal access token, renewed 30 s before it
 * expires or after a 401. Docker Hub issues no refresh token for this
 * endpoint, so renewing is a new login with the held secret; concurrent
 * callers share one login (single-flight).
 */
export class HubSession {
  readonly #send: Handler;
  readonly #hubUrl: string;
  readonly #login: () => Promise<HubLogin | undefined>;
  readonly #now: () => number;
  readonly #telemetry: Telemetry | undefined;
  #token: HubToken | undefined;
  #pending: Promise<HubToken | undefined> | undefined;
  #who: Promise<HubLogin | undefined> | undefined;
  /** Logins performed, for tests and `-v` output. */
  logins = 0;

  constructor(options: {
    send: Handler;
    hubUrl: string;
    login: () => Promise<HubLogin | undefined>;
    now?: () => number;
    /** Logins become `docker.auth.login` spans. */
    telemetry?: Telemetry;
  }) {
    this.#telemetry = options.telemetry;
    this.#send = options.send;
    this.#hubUrl = options.hubUrl;
    this.#login = options.login;
    this.#now = options.now ?? Date.now;
  }

  /** Whether the session holds a token, and until when (never the token itself). */
  state(): HubTokenState {
    if (!this.#token) return "anonymous";
    const left = this.#token.expiresAt - this.#now();
    return left <= 0 ? "expired" : left <= EXPIRING_MS ? "expiring" : "valid";
  }

  /** The login in use (username and source), or undefined when anonymous. */
  async identity(): Promise<{ username: string; source: string } | undefined> {
    const who = await this.#credentials();
    return who ? { username: who.username, source: who.source } : undefined;
  }

  /** The `Authorization` value for the next request; undefined when no credentials are configured. */
  async authorization(): Promise<string | undefined> {
    const state = this.state();
    if (state === "valid") return `Bearer ${this.#token!.value.reveal()}`;
    const token = await this.#renew();
    return token ? `Bearer ${token.value.reveal()}` : undefined;
  }

  /** After a 401: forget the token that was refused so the next call logs in again. */
  invalidate(authorization: string): void {
    if (this.#token && authorization === `Bearer ${this.#token.value.reveal()}`) this.#token = undefined;
  }

  #credentials(): Promise<HubLogin | undefined> {
    this.#who ??= this.#login();
    return this.#who;
  }

  #renew(): Promise<HubToken | undefined> {
    this.#pending ??= this.#traced().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #traced(): Promise<HubToken | undefined> {
    const who = await this.#credentials();
    if (!who) return undefined;
    if (!this.#telemetry) return this.#loginNow(who);
    return this.#telemetry.operation(
      "docker.io",
      "auth.login",
      { username: who.username, registry: new URL(this.#hubUrl).host },
      () => this.#loginNow(who),
    );
  }

  async #loginNow(who: HubLogin): Promise<HubToken> {
    this.logins++;
    const response = await this.#send({
      method: "POST",
      url: new URL("v2/auth/token", `${this.#hubUrl.replace(/\/+$/, "")}/`),
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ identifier: who.username, secret: who.secret.reveal() }),
      operation: "hub.login",
      anonymous: true,
    });
    const text = await readText(response, MAX_BODY).catch(() => "");
    const body = parseObject(text);
    if (response.status === 200 && typeof body?.access_token === "string" && body.access_token) {
      const expiresAt = jwtExpiry(body.access_token) ?? this.#now() + DEFAULT_TTL_MS;
      this.#token = { value: new SecretString(body.access_token), expiresAt };
      return this.#token;
    }
    if (response.status === 200)
      throw new ProtocolError("Docker Hub login: answer without access_token", { provider: "dockerhub" });
    if (response.status !== 401) throw hubErrorFromBody(response.status, body, "login");
    const detail = hubMessage(body);
    const twoFactor =
      typeof body?.login_2fa_token === "string" ||
      /two-factor|2fa|secondary authentication|mfa/i.test(detail ?? "");
    throw new AuthenticationError(
      twoFactor
        ? `Docker Hub login as ${who.username} needs a second factor: use a personal access token instead of the password (credentials from ${who.source})`
        : `Docker Hub login as ${who.username} failed: ${detail ?? "incorrect credentials"} (credentials from ${who.source})`,
      { status: 401, provider: "dockerhub", code: twoFactor ? "TWO_FACTOR_REQUIRED" : "UNAUTHORIZED" },
    );
  }
}
