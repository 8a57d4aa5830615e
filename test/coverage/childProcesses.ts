/**
 * Counts the `regkit` child processes the CLI tests spawn: when coverage is on,
 * every child gets NODE_V8_COVERAGE, so Node writes its V8 coverage on exit
 * into the directory the coverage provider (test/coverage/provider.ts) reads.
 * Tests keep spawning `dist/cli/main.js` exactly as a user runs it.
 */
import childProcess, { type SpawnOptions } from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import { promisify } from "node:util";

const dir = process.env.REGKIT_CHILD_COVERAGE;

if (dir) {
  // Children that inherit the environment (also through `sh -c`) get it from here...
  process.env.NODE_V8_COVERAGE = dir;
  // ...and children given an environment of their own get it added to theirs.
  const withCoverage = <T extends SpawnOptions | undefined>(options: T): T =>
    options?.env ? { ...options, env: { ...options.env, NODE_V8_COVERAGE: dir } } : options;
  type Launcher = (...args: unknown[]) => unknown;
  const wrap = (name: "spawn" | "execFile" | "exec" | "fork" | "spawnSync" | "execFileSync" | "execSync") => {
    const original = childProcess[name] as Launcher & { [promisify.custom]?: Launcher };
    const inject =
      (launch: Launcher) =>
      (...args: unknown[]) =>
        launch(
          ...args.map((arg) =>
            arg && typeof arg === "object" && !Array.isArray(arg) && "env" in arg
              ? withCoverage(arg as SpawnOptions)
              : arg,
          ),
        );
    const wrapped: Launcher & { [promisify.custom]?: Launcher } = inject(original);
    // promisify(execFile) keeps resolving to { stdout, stderr }, with the variable added too.
    const custom = original[promisify.custom];
    if (custom) wrapped[promisify.custom] = inject(custom);
    (childProcess as unknown as Record<string, Launcher>)[name] = wrapped;
  };
  for (const name of ["spawn", "execFile", "exec", "fork", "spawnSync", "execFileSync", "execSync"] as const)
    wrap(name);
  // ESM named imports of node:child_process read these bindings.
  syncBuiltinESMExports();
}
