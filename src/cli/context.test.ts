import { describe, expect, it } from "vitest";
import { CLI_TAG_TTL_MS, defaultCacheDir, manifestCacheSettings } from "./context.js";

describe("the CLI's manifest cache settings", () => {
  it("REGKIT_CACHE_DIR, else $XDG_CACHE_HOME/regkit, else ~/.cache/regkit; empty turns it off", () => {
    expect(defaultCacheDir({ REGKIT_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe("/c");
    expect(defaultCacheDir({ REGKIT_CACHE_DIR: "", XDG_CACHE_HOME: "/x" })).toBeUndefined();
    expect(defaultCacheDir({ XDG_CACHE_HOME: "/x", HOME: "/h" })).toBe("/x/regkit");
    // The XDG spec ignores a relative XDG_CACHE_HOME.
    expect(defaultCacheDir({ XDG_CACHE_HOME: "rel", HOME: "/h" })).toBe("/h/.cache/regkit");
    expect(defaultCacheDir({ HOME: "/h" })).toBe("/h/.cache/regkit");
  });

  it("--cache-dir wins over the environment; --no-cache turns the disk off, not the tag TTL", () => {
    const env = { REGKIT_CACHE_DIR: "/c" };
    expect(manifestCacheSettings({ cacheDir: "/d" }, env).disk?.dir).toBe("/d");
    expect(manifestCacheSettings({}, env).disk?.dir).toBe("/c");
    const off = manifestCacheSettings({ cache: false, cacheDir: "/d" }, env);
    expect(off).toEqual({ tagTtlMs: CLI_TAG_TTL_MS });
  });
});
