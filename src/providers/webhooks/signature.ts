/**
 * Webhook signatures: HMAC-SHA256 over the exact body bytes, sent as
 * `X-Hub-Signature-256: sha256=<hex>`. GitHub signs this way; Docker Hub does
 * not sign at all, so a relay in front of regkit adds the same header and one
 * code path checks both.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { AuthenticationError } from "../../core/errors.js";
import type { SecretString } from "../../core/secret.js";

/** Lower-case, as node:http presents incoming header names. */
export const SIGNATURE_HEADER = "x-hub-signature-256";

const PREFIX = "sha256=";
const HEX_DIGEST = /^[0-9a-f]{64}$/i;

function hmac(body: Uint8Array | string, secret: SecretString): Buffer {
  return createHmac("sha256", secret.reveal()).update(body).digest();
}

/** The header value a sender attaches to `body` (for relays and tests). */
export function sign(body: Uint8Array | string, secret: SecretString): string {
  return `${PREFIX}${hmac(body, secret).toString("hex")}`;
}

/**
 * Throws AuthenticationError unless `header` is the signature of `body`.
 * Messages never quote the header: it is attacker-chosen and may be huge.
 */
export function verifySignature(
  body: Uint8Array | string,
  header: string | string[] | undefined,
  secret: SecretString,
): void {
  if (header === undefined || header === "") {
    throw new AuthenticationError("missing X-Hub-Signature-256 header", { code: "SIGNATURE_MISSING" });
  }
  if (Array.isArray(header) || !header.startsWith(PREFIX)) {
    throw new AuthenticationError("X-Hub-Signature-256 must be one sha256=<hex> value", {
      code: "SIGNATURE_INVALID",
    });
  }
  const hex = header.slice(PREFIX.length);
  const expected = hmac(body, secret);
  // Buffer.from(hex) silently stops at the first non-hex character, so the
  // shape is checked first; the length check keeps timingSafeEqual from throwing.
  const given = HEX_DIGEST.test(hex) ? Buffer.from(hex, "hex") : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthenticationError("webhook signature does not match", { code: "SIGNATURE_INVALID" });
  }
}
