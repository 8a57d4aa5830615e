import { createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, verify } from "node:crypto";
import type { Context, Hono } from "hono";
import type { Users } from "../auth/users.js";

/** A principal of the fake: a service account or the metadata server's identity, and the projects it may use. */
export interface GooglePrincipal {
  email: string;
  projects: string[];
}

export interface FakeServiceAccount extends GooglePrincipal {
  /** Public key the fake verifies JWT-bearer assertions with (PEM or KeyObject). */
  publicKey: string | KeyObject;
}

/** The JSON key file of a service account, as the Cloud console hands it out. */
export interface ServiceAccountKeyFile {
  type: "service_account";
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

/** A fresh RSA service account: its key file (for clients) and its entry (for the fake). */
export function generateServiceAccount(
  email: string,
  projects: string[],
): { key: ServiceAccountKeyFile; account: FakeServiceAccount } {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    key: {
      type: "service_account",
      project_id: projects[0] ?? "demo-project",
      private_key_id: randomBytes(20).toString("hex"),
      private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      client_email: email,
      client_id: String(100_000_000_000_000_000_000n + BigInt(randomBytes(6).readUIntBE(0, 6))),
      token_uri: "https://oauth2.googleapis.com/token",
    },
    account: { email, projects, publicKey },
  };
}

const GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(Buffer.from(segment, "base64url").toString("utf8")) as unknown;
    return value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Google's OAuth2 token endpoint and GCE metadata server as the fake serves
 * them: JWT-bearer assertions are verified (RS256, against the service
 * account's public key; `aud` Google's token URL; `iat`/`exp` within an
 * hour), access tokens are opaque and expire; each issued token also opens
 * the registry to `oauth2accesstoken`, as Artifact Registry's Docker side does.
 */
export class GoogleAuthFake {
  readonly #accounts = new Map<string, FakeServiceAccount>();
  readonly #tokens = new Map<string, { principal: GooglePrincipal; expiresAt: number }>();
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #metadata: GooglePrincipal;
  #users: Users | undefined;
  /** Token requests answered with a token (both endpoints), for tests that count refreshes. */
  issued = 0;
  /** When set, the token endpoint refuses every request with this OAuth2 error (tests). */
  refuse: string | undefined;

  constructor(options: {
    accounts: FakeServiceAccount[];
    metadata: GooglePrincipal;
    ttlSeconds: number;
    now: () => number;
  }) {
    for (const account of options.accounts) this.#accounts.set(account.email, account);
    this.#metadata = options.metadata;
    this.#ttl = options.ttlSeconds;
    this.#now = options.now;
  }

  /** Who holds an access token, while it is valid. */
  principal(token: string): GooglePrincipal | undefined {
    const entry = this.#tokens.get(token);
    return entry && entry.expiresAt > this.#now() ? entry.principal : undefined;
  }

  /** The caller of a Google API request, or why not. */
  caller(c: Context): GooglePrincipal | "missing" | "invalid" {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) return "missing";
    return this.principal(match[1]!) ?? "invalid";
  }

  issue(principal: GooglePrincipal): { access_token: string; expires_in: number; token_type: "Bearer" } {
    const token = `ya29.fake-${randomBytes(24).toString("base64url")}`;
    this.#tokens.set(token, { principal, expiresAt: this.#now() + this.#ttl * 1000 });
    this.#users?.addToken("oauth2accesstoken", token);
    this.issued++;
    return { access_token: token, expires_in: this.#ttl, token_type: "Bearer" };
  }

  mount(app: Hono, users: Users, tokenPath: string): void {
    this.#users = users;
    app.post(tokenPath, async (c) => {
      if (this.refuse) return c.json({ error: this.refuse, error_description: "refused by the fake" }, 400);
      const form = new URLSearchParams(await c.req.text());
      if (form.get("grant_type") !== JWT_BEARER)
        return c.json(
          { error: "unsupported_grant_type", error_description: "only JWT-bearer assertions" },
          400,
        );
      const result = this.#verify(form.get("assertion") ?? "");
      if (typeof result === "string")
        return c.json({ error: "invalid_grant", error_description: result }, 400);
      return c.json(this.issue(result));
    });
    app.use("/computeMetadata/*", async (c, next) => {
      await next();
      // gcp-metadata refuses answers without it (a captive portal is not a metadata server).
      c.res.headers.set("metadata-flavor", "Google");
    });
    const metadataToken = (c: Context) => {
      if (c.req.header("metadata-flavor") !== "Google")
        return c.text("Missing Metadata-Flavor:Google header.", 403);
      return c.json(this.issue(this.#metadata));
    };
    app.get("/computeMetadata/v1/instance/service-accounts/default/token", metadataToken);
    app.get("/computeMetadata/v1/instance/service-accounts/:account/token", metadataToken);
    app.get("/computeMetadata/v1/project/project-id", (c) => c.text(this.#metadata.projects[0] ?? ""));
    app.get("/computeMetadata/v1/instance/service-accounts/default/email", (c) =>
      c.text(this.#metadata.email),
    );
    app.get("/computeMetadata/v1/instance", (c) =>
      c.req.header("metadata-flavor") === "Google" ? c.json({}) : c.text("forbidden", 403),
    );
  }

  /** The service account of a valid assertion, or what is wrong with it. */
  #verify(assertion: string): GooglePrincipal | string {
    const parts = assertion.split(".");
    if (parts.length !== 3) return "assertion is not a JWT";
    const header = decodeSegment(parts[0]!);
    const claims = decodeSegment(parts[1]!);
    if (!header || !claims) return "assertion is not a JWT";
    if (header.alg !== "RS256") return "assertion must be signed with RS256";
    const account = typeof claims.iss === "string" ? this.#accounts.get(claims.iss) : undefined;
    if (!account) return "Invalid JWT Signature.";
    const key =
      typeof account.publicKey === "string" ? createPublicKey(account.publicKey) : account.publicKey;
    const signed = Buffer.from(`${parts[0]}.${parts[1]}`);
    if (!verify("RSA-SHA256", signed, key, Buffer.from(parts[2]!, "base64url")))
      return "Invalid JWT Signature.";
    if (claims.aud !== GOOGLE_TOKEN_AUDIENCE) return "Invalid JWT: audience";
    const now = Math.floor(this.#now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp) || exp <= now || exp - iat > 3600 || iat > now + 300)
      return "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.";
    if (typeof claims.scope !== "string" || claims.scope === "") return "Invalid JWT: no scope";
    return account;
  }
}
