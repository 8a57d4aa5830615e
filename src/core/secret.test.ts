import { Console } from "node:console";
import { Writable } from "node:stream";
import { format, inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { REDACTED, SecretString } from "./secret.js";

const VALUE = "hunter2-s3cr3t";

function consoleOutput(write: (c: Console) => void): string {
  let out = "";
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      out += String(chunk);
      callback();
    },
  });
  write(new Console({ stdout: sink, stderr: sink }));
  return out;
}

describe("SecretString", () => {
  const secret = new SecretString(VALUE);

  it.each<[string, () => string]>([
    ["a template string", () => `${secret}`],
    ["String()", () => String(secret)],
    ["concatenation", () => "token=" + secret],
    ["JSON.stringify", () => JSON.stringify(secret)],
    ["JSON.stringify nested", () => JSON.stringify({ auth: { password: secret } })],
    ["util.inspect", () => inspect(secret)],
    ["util.inspect nested deep", () => inspect({ a: { b: { c: { secret } } } }, { depth: 10 })],
    [
      "util.inspect without custom inspect",
      () => inspect(secret, { customInspect: false, showHidden: true }),
    ],
    ["util.format %s", () => format("%s", secret)],
    ["util.format %o", () => format("%o", secret)],
    ["util.format %O", () => format("%O", { secret })],
    ["util.format %j", () => format("%j", { secret })],
    ["console.log", () => consoleOutput((c) => c.log(secret))],
    ["console.log with format", () => consoleOutput((c) => c.log("pw=%s", secret))],
    [
      "console.error of an object",
      () => consoleOutput((c) => c.error({ headers: { authorization: secret } })),
    ],
    ["console.table", () => consoleOutput((c) => c.table([{ secret }]))],
    ["an Error message", () => new Error(`login failed with ${secret}`).message],
    ["Object.entries", () => JSON.stringify(Object.entries(secret))],
    ["a spread copy", () => inspect({ ...secret })],
  ])("never shows its value through %s", (_how, render) => {
    const text = render();
    expect(text).not.toContain(VALUE);
  });

  it("renders as [REDACTED] where it is turned into text", () => {
    expect(REDACTED).toBe("[REDACTED]");
    expect(`${secret}`).toBe("[REDACTED]");
    expect(JSON.stringify({ secret })).toBe('{"secret":"[REDACTED]"}');
    expect(inspect(secret)).toBe("[REDACTED]");
    expect(format("%s|%o|%j", secret, secret, secret)).toBe('[REDACTED]|[REDACTED]|"[REDACTED]"');
    expect(consoleOutput((c) => c.log(secret))).toBe("[REDACTED]\n");
  });

  it("gives the value only through reveal()", () => {
    expect(secret.reveal()).toBe(VALUE);
    expect(secret.length).toBe(VALUE.length);
    expect(secret.isEmpty()).toBe(false);
    expect(new SecretString("").isEmpty()).toBe(true);
  });

  it("compares and wraps", () => {
    expect(secret.equals(new SecretString(VALUE))).toBe(true);
    expect(secret.equals(new SecretString("other"))).toBe(false);
    expect(SecretString.from(secret)).toBe(secret);
    expect(SecretString.from(VALUE).reveal()).toBe(VALUE);
  });
});
