import { createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";

/** Claims of the Hub API's JWTs as the fake issues them. */
export interface HubClaims {
  sub: string;
  username: string;
  /** How the caller logged in: `password` may manage access tokens, `pat` may not. */
  auth: "password" | "pat";
  iat: number;
  exp: number;
  jti: string;
}

/**
 * The Hub API's bearer tokens: HS256 JWTs with a per-process key, checked to
 * the second (no leeway), so tests can watch a token expire.
 */
export class HubJwt {
  readonly #key = randomBytes(32);

  constructor(readonly ttlSeconds: number) {}

  issue(username: string, auth: HubClaims["auth"], now = Date.now()): string {
    const iat = Math.floor(now / 1000);
    const claims: HubClaims = {
      sub: username,
      username,
      auth,
      iat,
      exp: iat + this.ttlSeconds,
      jti: randomUUID(),
    };
    const head = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url");
    const body = Buffer.from(JSON.stringify(claims)).toString("base64url");
    return `${head}.${body}.${this.#sign(`${head}.${body}`)}`;
  }

  /** The claims of a valid, unexpired token; undefined otherwise. */
  verify(token: string, now = Date.now()): HubClaims | undefined {
    const [head, body, signature, ...rest] = token.split(".");
    if (!head || !body || !signature || rest.length > 0) return undefined;
    const want = Buffer.from(this.#sign(`${head}.${body}`));
    const got = Buffer.from(signature);
    if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
    try {
      const claims = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as HubClaims;
      return claims.exp > now / 1000 ? claims : undefined;
    } catch {
      return undefined;
    }
  }

  #sign(input: string): string {
    return createHmac("sha256", this.#key).update(input).digest("base64url");
  }
}
