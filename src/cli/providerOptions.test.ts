import { PassThrough } from "node:stream";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { type CliIo, jsonOutput } from "./context.js";
import { isoSeconds } from "./format.js";
import { buildProgram } from "./program.js";

const io: CliIo = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() };
const find = (parent: Command, ...path: string[]): Command =>
  path.reduce((command, name) => {
    const found = command.commands.find((c) => c.name() === name);
    if (!found) throw new Error(`no command ${name}`);
    return found;
  }, parent);

/** The commands that build a provider client declare their shared options in one place. */
describe("provider command options", () => {
  it("hub, ghcr, gar, ratelimit and vulns take the same --config FILE, with the same help", () => {
    const program = buildProgram(io);
    const help = ["hub", "ghcr", "gar", "ratelimit", "vulns"].map(
      (name) => find(program, name).options.find((o) => o.long === "--config")?.description,
    );
    expect(help).toEqual(
      Array(5).fill("regkit config file (default $REGKIT_CONFIG or ~/.config/regkit/config.yaml)"),
    );
  });

  it("--json counts before the provider command and after it", () => {
    for (const argv of [
      ["--json", "hub", "repos", "acme"],
      ["hub", "repos", "acme", "--json"],
    ]) {
      const program = buildProgram(io);
      let seen: boolean | undefined;
      find(program, "hub", "repos").action((_ns: string, _options: unknown, command: Command) => {
        seen = jsonOutput(command);
      });
      program.parse(argv, { from: "user" });
      expect(seen).toBe(true);
    }
    const program = buildProgram(io);
    let seen: boolean | undefined;
    find(program, "ghcr", "tags").action((_image: string, _options: unknown, command: Command) => {
      seen = jsonOutput(command);
    });
    program.parse(["ghcr", "tags", "ghcr.io/a/b"], { from: "user" });
    expect(seen).toBe(false);
  });

  it("dates print to the second in UTC, a missing one as -", () => {
    expect(isoSeconds(new Date("2024-05-01T12:34:56.789Z"))).toBe("2024-05-01T12:34:56Z");
    expect(isoSeconds(undefined)).toBe("-");
  });
});
