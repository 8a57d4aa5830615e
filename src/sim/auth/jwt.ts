import { createHash, createPublicKey, type KeyObject, sign, verify } from "node:crypto";

/** One `access` claim entry of the distribution token spec. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface Claims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  nbf: number;
  iat: number;
  jti: string;
  access: Access[];
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");

/**
 * The key id distribution expects in `kid`: the libtrust fingerprint, i.e.
 * base32(sha256(DER SubjectPublicKeyInfo)[:30]) in groups of four.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  const sum = createHash("sha256").update(der).digest().subarray(0, 30);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of sum) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(":");
}

function algorithmOf(key: KeyObject): "ES256" | "RS256" {
  if (key.asymmetricKeyType === "ec") return "ES256";
  if (key.asymmetricKeyType === "rsa") return "RS256";
  throw new Error(`unsupported signing key type ${key.asymmetricKeyType}`);
}

/** Signs claims as a JWT the way distribution verifies it (ES256 signatures as raw r||s). */
export function signJwt(claims: Claims, privateKey: KeyObject): string {
  const publicKey = createPublicKey(privateKey);
  const alg = algorithmOf(privateKey);
  const header = { typ: "JWT", alg, kid: libtrustKeyId(publicKey) };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign(
    "sha256",
    Buffer.from(input),
    alg === "ES256" ? { key: privateKey, dsaEncoding: "ieee-p1363" } : privateKey,
  );
  return `${input}.${b64url(signature)}`;
}

/** Verifies signature, issuer, audience and time (60 s leeway, like distribution); undefined when invalid. */
export function verifyJwt(
  token: string,
  publicKey: KeyObject,
  expect: { issuer: string; audience: string },
  now = Date.now(),
): Claims | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [h, p, s] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(h, "base64url").toString()) as { alg?: string };
    const alg = algorithmOf(publicKey);
    if (header.alg !== alg) return undefined;
    const ok = verify(
      "sha256",
      Buffer.from(`${h}.${p}`),
      alg === "ES256" ? { key: publicKey, dsaEncoding: "ieee-p1363" } : publicKey,
      Buffer.from(s, "base64url"),
    );
    if (!ok) return undefined;
    const claims = JSON.parse(Buffer.from(p, "base64url").toString()) as Claims;
    const seconds = Math.floor(now / 1000);
    if (claims.iss !== expect.issuer || claims.aud !== expect.audience) return undefined;
    if (!(claims.exp + 60 >= seconds && claims.nbf - 60 <= seconds)) return undefined;
    return Array.isArray(claims.access) ? claims : undefined;
  } catch {
    return undefined;
  }
}
