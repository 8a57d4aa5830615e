import { describe, expect, it } from "vitest";
import { thrownBy } from "../../../test/support/thrown.js";
import { AuthenticationError } from "../../core/errors.js";
import { SecretString } from "../../core/secret.js";
import { sign, verifySignature } from "./signature.js";

const secret = new SecretString("It's a Secret to Everybody");
const body = Buffer.from("Hello, World!");

function rejection(header: string | string[] | undefined): AuthenticationError {
  return thrownBy(AuthenticationError, () => verifySignature(body, header, secret));
}

describe("webhook signatures", () => {
  it("matches GitHub's documented test vector", () => {
    // docs.github.com "Validating webhook deliveries": this secret and payload give this signature.
    expect(sign(body, secret)).toBe(
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it("accepts the signature of the exact bytes, in either hex case", () => {
    const header = sign(body, secret);
    expect(() => verifySignature(body, header, secret)).not.toThrow();
    expect(() =>
      verifySignature("Hello, World!", header.toUpperCase().replace("SHA256", "sha256"), secret),
    ).not.toThrow();
  });

  it("refuses a signature made with another secret or over other bytes", () => {
    expect(rejection(sign(body, new SecretString("other"))).code).toBe("SIGNATURE_INVALID");
    expect(() => verifySignature(Buffer.from("Hello, World?"), sign(body, secret), secret)).toThrow(
      "webhook signature does not match",
    );
  });

  it("refuses a missing header, a wrong prefix, a repeated header and a wrong length", () => {
    expect(rejection(undefined).code).toBe("SIGNATURE_MISSING");
    expect(rejection("").code).toBe("SIGNATURE_MISSING");
    const hex = sign(body, secret).slice("sha256=".length);
    expect(rejection(`sha1=${hex}`).message).toContain("sha256=<hex>");
    expect(rejection(hex).code).toBe("SIGNATURE_INVALID");
    expect(rejection([sign(body, secret), sign(body, secret)]).code).toBe("SIGNATURE_INVALID");
    expect(rejection(`sha256=${hex.slice(0, 62)}`).code).toBe("SIGNATURE_INVALID");
    expect(rejection(`sha256=${hex}00`).code).toBe("SIGNATURE_INVALID");
    // Buffer.from would decode the valid prefix of this and ignore the rest.
    expect(rejection(`sha256=${hex.slice(0, 62)}zz`).code).toBe("SIGNATURE_INVALID");
  });

  it("never puts the secret or the sent header in a message", () => {
    const huge = `sha256=${"a".repeat(10_000)}`;
    for (const header of [undefined, "md5=1", huge, sign(body, new SecretString("x"))]) {
      const error = rejection(header);
      expect(error.message).not.toContain(secret.reveal());
      expect(error.message.length).toBeLessThan(80);
      expect(JSON.stringify(error)).not.toContain(secret.reveal());
    }
  });
});
