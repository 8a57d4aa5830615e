/**
 * The embedded registry's JWTs: what distribution accepts (ES256 as raw r||s,
 * RS256, issuer, audience, 60 s leeway) and every way a token is refused.
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Claims, signJwt, verifyJwt } from "./jwt.js";

const NOW = 1_800_000_000_000;
const SECONDS = NOW / 1000;
const expectation = { issuer: "regkit", audience: "registry" };
const claims = (extra: Partial<Claims> = {}): Claims => ({
  iss: "regkit",
  sub: "alice",
  aud: "registry",
  exp: SECONDS + 300,
  nbf: SECONDS,
  iat: SECONDS,
  jti: "1",
  access: [{ type: "repository", name: "a", actions: ["pull"] }],
  ...extra,
});
const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const verifyWith = (token: string, key: KeyObject = ec.publicKey, now = NOW) =>
  verifyJwt(token, key, expectation, now);

describe("JWTs of the embedded token server", () => {
  it("signs and verifies ES256 (raw r||s) and RS256 tokens", () => {
    const es = signJwt(claims(), ec.privateKey);
    const header = JSON.parse(Buffer.from(es.split(".")[0]!, "base64url").toString());
    expect(header.alg).toBe("ES256");
    expect(header.kid).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect(Buffer.from(es.split(".")[2]!, "base64url")).toHaveLength(64);
    expect(verifyWith(es)).toEqual(claims());
    const rs = signJwt(claims(), rsa.privateKey);
    expect(verifyWith(rs, rsa.publicKey)?.sub).toBe("alice");
  });

  it("refuses a key type it cannot sign with", () => {
    const ed = generateKeyPairSync("ed25519");
    expect(() => signJwt(claims(), ed.privateKey)).toThrow("unsupported signing key type ed25519");
    expect(verifyWith(signJwt(claims(), ec.privateKey), ed.publicKey)).toBeUndefined();
  });

  it("allows 60 s of clock skew at either end, and no more", () => {
    const token = signJwt(claims(), ec.privateKey);
    expect(verifyWith(token, ec.publicKey, NOW + 360_000)).toBeDefined();
    expect(verifyWith(token, ec.publicKey, NOW + 361_000)).toBeUndefined();
    expect(verifyWith(token, ec.publicKey, NOW - 60_000)).toBeDefined();
    expect(verifyWith(token, ec.publicKey, NOW - 61_000)).toBeUndefined();
  });

  it.each([
    ["not three parts", (t: string) => t.split(".").slice(0, 2).join(".")],
    ["a header that is not JSON", (t: string) => `e30x${t.slice(t.indexOf("."))}`],
    [
      "a forged payload",
      (t: string) => {
        const [h, , s] = t.split(".");
        return `${h}.${Buffer.from(JSON.stringify(claims({ sub: "mallory" }))).toString("base64url")}.${s}`;
      },
    ],
    [
      "another signature",
      (t: string) => `${t.slice(0, t.lastIndexOf("."))}.${Buffer.alloc(64).toString("base64url")}`,
    ],
  ])("refuses %s", (_what, damage) => {
    expect(verifyWith(damage(signJwt(claims(), ec.privateKey)))).toBeUndefined();
  });

  it("refuses a token for another algorithm, issuer or audience, or without access claims", () => {
    expect(verifyWith(signJwt(claims(), rsa.privateKey), ec.publicKey)).toBeUndefined();
    expect(verifyWith(signJwt(claims({ iss: "other" }), ec.privateKey))).toBeUndefined();
    expect(verifyWith(signJwt(claims({ aud: "other" }), ec.privateKey))).toBeUndefined();
    expect(verifyWith(signJwt(claims({ access: "all" as never }), ec.privateKey))).toBeUndefined();
  });
});
