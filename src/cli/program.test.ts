import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { CliIo } from "./context.js";
import { buildProgram, commandPath } from "./program.js";

const io: CliIo = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
const path = (...argv: string[]) => commandPath(buildProgram(io), argv);

/** The root span's name: the command, whatever global options come first. */
describe("commandPath", () => {
  it("skips global options with their values, before the command and between subcommands", () => {
    expect(path("--record", "out.har", "ls", "127.0.0.1:5000/a")).toBe("regkit ls");
    expect(path("--replay", "in.har", "--json", "-v", "-v", "digest", "alpine")).toBe("regkit digest");
    expect(path("--insecure-registry", "h:5000", "--cache-dir", "/c", "--no-cache", "ls", "x")).toBe(
      "regkit ls",
    );
    expect(path("--record=out.har", "ls", "x")).toBe("regkit ls");
    expect(path("--record", "ls", "ls", "x")).toBe("regkit ls");
  });

  it("names subcommands, skipping their own options and the globals commander accepts there", () => {
    expect(path("gar", "--project", "p", "--location", "us", "packages", "containers")).toBe(
      "regkit gar packages",
    );
    expect(path("--json", "gar", "--record", "f.har", "version", "delete", "--force", "x@sha256:1")).toBe(
      "regkit gar version delete",
    );
    expect(path("ghcr", "--config", "c.yaml", "cleanup", "ghcr.io/a/b", "--older-than", "30d")).toBe(
      "regkit ghcr cleanup",
    );
  });

  it("an alias is named as its command; an argument ends the path; no command is regkit", () => {
    expect(path("tags", "alpine")).toBe("regkit ls");
    expect(path("copy", "manifest", "oci:dir")).toBe("regkit copy");
    expect(path("--json")).toBe("regkit");
    expect(path("--", "ls")).toBe("regkit");
  });
});
