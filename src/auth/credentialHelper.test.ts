/**
 * The docker-credential-helpers protocol against real helper executables on
 * PATH: a working one keeping credentials in a file, and helpers that fail
 * the ways real ones do (errors on stdout, garbage, empty secrets, signals).
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { SecretString } from "../core/secret.js";
import { CredentialHelper, CredentialHelperError } from "./credentialHelper.js";
import { basic } from "./credentials.js";

const STORE_HELPER = `#!/usr/bin/env node
const fs = require("node:fs");
const file = process.env.HELPER_STORE;
const load = () => { try { return JSON.parse(fs.readFileSync(file, "utf8")); } catch { return {}; } };
let input = "";
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const store = load();
  const action = process.argv[2];
  if (action === "store") { const c = JSON.parse(input); store[c.ServerURL] = c; fs.writeFileSync(file, JSON.stringify(store)); }
  else if (action === "get") {
    const c = store[input.trim()];
    if (!c) { process.stdout.write("credentials not found in native keychain\\n"); process.exit(1); }
    process.stdout.write(JSON.stringify(c));
  } else if (action === "erase") {
    if (!store[input.trim()]) { process.stdout.write("credentials not found in native keychain"); process.exit(1); }
    delete store[input.trim()]; fs.writeFileSync(file, JSON.stringify(store));
  }
  else if (action === "list") { process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(store).map(([k, v]) => [k, v.Username])))); }
});
`;

const HELPERS: Record<string, string> = {
  store: STORE_HELPER,
  // Fails every action, with its reason on stdout and more on stderr, over several lines.
  failing: "#!/bin/sh\necho 'keychain is locked'\necho '  try again' >&2\nexit 3\n",
  garbage: "#!/bin/sh\necho 'not json at all'\n",
  silent: "#!/bin/sh\nexit 1\n",
  empty: `#!/bin/sh\necho '{"ServerURL":"r","Username":"u","Secret":""}'\n`,
  killed: "#!/bin/sh\nkill -9 $$\n",
};

let dir: string;
let path: string | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-helper-"));
  for (const [name, script] of Object.entries(HELPERS)) {
    await writeFile(join(dir, `docker-credential-${name}`), script);
    await chmod(join(dir, `docker-credential-${name}`), 0o755);
  }
  await writeFile(join(dir, "docker-credential-noexec"), "#!/bin/sh\n");
  await chmod(join(dir, "docker-credential-noexec"), 0o644);
  path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  process.env.HELPER_STORE = join(dir, "store.json");
});
afterAll(async () => {
  process.env.PATH = path;
  delete process.env.HELPER_STORE;
  await rm(dir, { recursive: true, force: true });
});

async function failure(work: Promise<unknown>): Promise<CredentialHelperError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CredentialHelperError);
  expect(error).toBeInstanceOf(ConfigurationError);
  return error as CredentialHelperError;
}

describe("credential helpers", () => {
  it("stores, gets, lists and erases Basic credentials and identity tokens", async () => {
    const helper = new CredentialHelper("store");
    await helper.store("registry.test", basic("alice", "pw"));
    await helper.store("token.test", { kind: "identity-token", token: new SecretString("refresh") });
    const stored = JSON.parse(await readFile(join(dir, "store.json"), "utf8"));
    expect(stored["registry.test"]).toEqual({ ServerURL: "registry.test", Username: "alice", Secret: "pw" });
    expect(stored["token.test"]).toEqual({ ServerURL: "token.test", Username: "<token>", Secret: "refresh" });
    const got = await helper.get("registry.test");
    expect(got?.kind === "basic" && [got.username, got.password.reveal()]).toEqual(["alice", "pw"]);
    const token = await helper.get("token.test");
    expect(token?.kind === "identity-token" && token.token.reveal()).toBe("refresh");
    expect(await helper.list()).toEqual({ "registry.test": "alice", "token.test": "<token>" });
    await helper.erase("registry.test");
    expect(await helper.get("registry.test")).toBeUndefined();
    // Erasing what is not there is no error either.
    await helper.erase("registry.test");
  });

  it("an empty secret is no credential", async () => {
    expect(await new CredentialHelper("empty").get("r")).toBeUndefined();
  });

  it("a failing helper's reason is passed on, on one line, for every action", async () => {
    const helper = new CredentialHelper("failing");
    expect((await failure(helper.get("r"))).message).toBe(
      "credential helper docker-credential-failing: get failed (exit 3): keychain is locked try again",
    );
    expect((await failure(helper.store("r", basic("u", "p")))).message).toBe(
      "credential helper docker-credential-failing: store failed (exit 3): keychain is locked try again",
    );
    expect((await failure(helper.erase("r"))).message).toMatch(/erase failed \(exit 3\): keychain is locked/);
    expect((await failure(helper.list())).message).toMatch(/list failed \(exit 3\): keychain is locked/);
    expect((await failure(new CredentialHelper("silent").get("r"))).message).toBe(
      "credential helper docker-credential-silent: get failed (exit 1): no output",
    );
  });

  it("output that is not the protocol's JSON is an error, not a credential", async () => {
    const helper = new CredentialHelper("garbage");
    expect((await failure(helper.get("r"))).message).toBe(
      "credential helper docker-credential-garbage: get printed something that is not credentials JSON",
    );
    expect((await failure(helper.list())).message).toBe(
      "credential helper docker-credential-garbage: list printed something that is not JSON",
    );
  });

  it("a helper that is missing, cannot run, or is killed is named with what happened", async () => {
    expect((await failure(new CredentialHelper("absent").get("r"))).message).toBe(
      "credential helper docker-credential-absent: not found on PATH",
    );
    expect((await failure(new CredentialHelper("noexec").get("r"))).message).toBe(
      "credential helper docker-credential-noexec: could not run (EACCES)",
    );
    expect((await failure(new CredentialHelper("killed").get("r"))).message).toBe(
      "credential helper docker-credential-killed: killed by SIGKILL",
    );
  });

  it("refuses helper names that are not a plain word", () => {
    for (const name of ["../evil", "a b", "x;rm", ""])
      expect(() => new CredentialHelper(name)).toThrow(/invalid credential helper name/);
    expect(new CredentialHelper("osxkeychain").name).toBe("osxkeychain");
  });
});
