import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from "node:crypto";
import type { Context, Hono } from "hono";
import { type Access, signJwt } from "./jwt.js";
import type { Users } from "./users.js";

/** `credentialScopes`: what the credential itself may do (a GitHub PAT's scopes), when the fake knows. */
export type Authorize = (
  user: string | undefined,
  access: Access,
  credentialScopes?: readonly string[],
) => string[];

/** Who a Basic `Authorization` header is, when a provider fake knows better than the password list. */
export type Authenticate = (
  authorization: string,
) => { user: string; scopes?: readonly string[] } | undefined;

export interface TokenServerOptions {
  /** `iss` of the tokens (distribution's `auth.token.issuer`). */
  issuer?: string;
  /** `aud` of the tokens (distribution's `auth.token.service`). */
  service?: string;
  /** PEM or KeyObject (EC P-256 → ES256, RSA → RS256); a fresh P-256 key when omitted. */
  signingKey?: string | KeyObject;
  users: Users;
  /** Anonymous callers may pull (default false: every scope needs a login). */
  anonymousPull?: boolean;
  /**
   * Narrows what a caller gets for one scope (e.g. a provider fake keeping
   * private repositories and other users' namespaces out of reach).
   */
  authorize?: Authorize;
  ttlSeconds?: number;
}

/**
 * A distribution-compatible token server: `GET /token?service=&scope=…`
 * with optional Basic credentials, and the OAuth2 POST form (password and
 * refresh_token grants). Signs JWTs that the real distribution registry
 * accepts when its `rootcertbundle` holds a certificate for the same key.
 */
export class TokenServer {
  readonly issuer: string;
  readonly service: string;
  readonly publicKey: KeyObject;
  readonly #privateKey: KeyObject;
  readonly #users: Users;
  readonly #anonymousPull: boolean;
  /** Set by provider fakes after construction; see TokenServerOptions.authorize. */
  authorize: Authorize | undefined;
  /** Set by provider fakes whose credentials are tokens with scopes (GHCR's PATs). */
  authenticate: Authenticate | undefined;
  readonly #ttl: number;
  readonly #refreshTokens = new Map<string, string>();
  /** Token requests served, for tests that count them. */
  requests = 0;

  constructor(options: TokenServerOptions) {
    this.issuer = options.issuer ?? "regkit-sim";
    this.service = options.service ?? "regkit-sim";
    this.#privateKey =
      typeof options.signingKey === "string"
        ? createPrivateKey(options.signingKey)
        : (options.signingKey ?? generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey);
    this.publicKey = createPublicKey(this.#privateKey);
    this.#users = options.users;
    this.#anonymousPull = options.anonymousPull ?? false;
    this.authorize = options.authorize;
    this.#ttl = options.ttlSeconds ?? 300;
  }

  /** What `user` may do of what was asked: users get everything asked, anonymous only pulls if allowed. */
  grant(user: string | undefined, scopes: string[], credentialScopes?: readonly string[]): Access[] {
    const access: Access[] = [];
    for (const scope of scopes.flatMap((s) => s.split(" ")).filter(Boolean)) {
      const first = scope.indexOf(":");
      const last = scope.lastIndexOf(":");
      if (first <= 0 || last === first) continue;
      const type = scope.slice(0, first);
      const name = scope.slice(first + 1, last);
      const asked = scope
        .slice(last + 1)
        .split(",")
        .filter(Boolean);
      const actions = user
        ? asked
        : this.#anonymousPull && type === "repository"
          ? asked.filter((a) => a === "pull")
          : [];
      const granted = this.authorize
        ? this.authorize(user, { type, name, actions }, credentialScopes)
        : actions;
      if (granted.length > 0) access.push({ type, name, actions: granted });
    }
    return access;
  }

  issue(
    user: string | undefined,
    scopes: string[],
    credentialScopes?: readonly string[],
  ): { token: string; expiresIn: number; issuedAt: string } {
    const now = Math.floor(Date.now() / 1000);
    const token = signJwt(
      {
        iss: this.issuer,
        sub: user ?? "",
        aud: this.service,
        exp: now + this.#ttl,
        nbf: now - 1,
        iat: now,
        jti: randomUUID(),
        access: this.grant(user, scopes, credentialScopes),
      },
      this.#privateKey,
    );
    return { token, expiresIn: this.#ttl, issuedAt: new Date(now * 1000).toISOString() };
  }

  mount(app: Hono, path = "/token"): void {
    app.get(path, (c) => {
      this.requests++;
      const header = c.req.header("authorization");
      const known = header ? this.authenticate?.(header) : undefined;
      const user = known?.user ?? this.#users.fromBasicHeader(header);
      if (header && !user) return this.#unauthorized(c);
      return this.#answer(c, user, c.req.queries("scope") ?? [], false, known?.scopes);
    });
    app.post(path, async (c) => {
      this.requests++;
      const form = new URLSearchParams(await c.req.text());
      const scopes = (form.get("scope") ?? "").split(" ").filter(Boolean);
      let user: string | undefined;
      if (form.get("grant_type") === "password") {
        const name = form.get("username") ?? "";
        if (!this.#users.check(name, form.get("password") ?? "")) return this.#unauthorized(c);
        user = name;
      } else if (form.get("grant_type") === "refresh_token") {
        user = this.#refreshTokens.get(form.get("refresh_token") ?? "");
        if (!user) return this.#unauthorized(c);
      } else {
        return c.json({ error: "unsupported_grant_type" }, 400);
      }
      const offline = form.get("access_type") === "offline" || form.get("grant_type") === "refresh_token";
      return this.#answer(c, user, scopes, offline);
    });
  }

  #answer(
    c: Context,
    user: string | undefined,
    scopes: string[],
    offline = false,
    credentialScopes?: readonly string[],
  ) {
    const { token, expiresIn, issuedAt } = this.issue(user, scopes, credentialScopes);
    let refresh: string | undefined;
    if (offline && user) {
      refresh = randomBytes(24).toString("base64url");
      this.#refreshTokens.set(refresh, user);
    }
    return c.json({
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: issuedAt,
      ...(refresh ? { refresh_token: refresh } : {}),
    });
  }

  #unauthorized(c: Context) {
    return c.json({ errors: [{ code: "UNAUTHORIZED", message: "invalid username or password" }] }, 401, {
      "www-authenticate": 'Basic realm="regkit token server"',
    });
  }
}
