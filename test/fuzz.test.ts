/**
 * Fuzzing every parser of untrusted input with fast-check: whatever the
 * input, only RegkitErrors escape, and each input is handled within a bounded
 * time (no catastrophic backtracking, no endless loop).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseChallenges } from "../src/auth/challenge.js";
import { DockerConfig } from "../src/auth/dockerConfig.js";
import { parseDigest } from "../src/core/digest.js";
import { isRegkitError } from "../src/core/errors.js";
import { parseImageConfig, parseManifest } from "../src/core/manifest.js";
import { parseOciErrorBody } from "../src/core/ociErrors.js";
import { parsePlatform } from "../src/core/platform.js";
import { parseReference } from "../src/core/reference.js";
import { loadDockerHubConfig } from "../src/providers/dockerhub/config.js";
import { parseDockerHubWebhook } from "../src/providers/dockerhub/webhook.js";
import { parseNextLink } from "../src/registry/pagination.js";
import { parseFaults } from "../src/sim/faults.js";
import { Replayer } from "../src/transport/cassette.js";
import { parseRateLimit } from "../src/transport/rateLimit.js";
import type { HttpRequest, HttpResponse } from "../src/transport/types.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
/** Per input; generous for a loaded shared machine, far below what a backtracking blow-up takes. */
const BOUND_MS = 1000;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "regkit-fuzz-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Runs `fn`; a throw must be a RegkitError, and it must finish within the bound. */
async function survives(fn: () => unknown): Promise<void> {
  const started = performance.now();
  try {
    await fn();
  } catch (error) {
    if (!isRegkitError(error)) throw new Error(`non-RegkitError escaped: ${String(error)}`, { cause: error });
  }
  const took = performance.now() - started;
  if (took > BOUND_MS) throw new Error(`took ${Math.round(took)} ms`);
}

/** Strings that look like the grammar as well as arbitrary ones: the parsers' edges are near the valid. */
const near = (pieces: string[]) =>
  fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.string({ unit: "binary", maxLength: 300 }),
    fc.array(fc.constantFrom(...pieces), { maxLength: 40 }).map((p) => p.join("")),
  );

const json = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 200 }),
);

const response = (headers: Record<string, string>): HttpResponse =>
  ({
    status: 200,
    headers,
    body: Readable.from([]),
    url: new URL("https://registry.example/v2/"),
    request: { method: "GET", url: new URL("https://registry.example/v2/"), headers: {} } as HttpRequest,
  }) as HttpResponse;

const property = (arb: fc.Arbitrary<string>, fn: (input: string) => unknown) =>
  fc.assert(
    fc.asyncProperty(arb, (input) => survives(() => fn(input))),
    { numRuns: RUNS },
  );

describe("fuzzing: only RegkitErrors escape, in bounded time", () => {
  it("references", () =>
    property(
      near([
        "docker.io/",
        "localhost:5000/",
        "a",
        "/",
        ":",
        "@",
        "sha256:",
        "0".repeat(64),
        ".",
        "-",
        "_",
        "__",
        "A",
        "[::1]",
      ]),
      (s) => parseReference(s),
    ));

  it("digests", () =>
    property(near(["sha256:", "sha512:", "0", "f", "A", ":", "+", ".", "_", "-"]), (s) => parseDigest(s)));

  it("platforms", () =>
    property(near(["linux", "/", "amd64", "arm", "v8", ",", "os.version=", ":"]), parsePlatform));

  it("WWW-Authenticate challenges", () =>
    property(
      near(["Bearer ", "Basic ", 'realm="', '"', ",", "=", "\\", "service=", "scope=", " ", "\t", "a"]),
      (s) => parseChallenges(s),
    ));

  it("Link headers", () =>
    property(near(["<", ">", "; ", 'rel="next"', "rel=next", ",", '"', "/v2/x?n=1", "\\"]), (s) =>
      parseNextLink([s]),
    ));

  it("rate-limit headers", () =>
    property(near(["100", ";w=", "21600", ",", " ", "-1", "1e9", "abc", ";"]), (s) => {
      parseRateLimit(response({ "ratelimit-limit": s, "ratelimit-remaining": s, "ratelimit-reset": s }));
      parseRateLimit(
        response({ "x-ratelimit-limit": s, "x-ratelimit-remaining": s, "x-ratelimit-reset": s }),
      );
    }));

  it("manifests and image configs", () =>
    property(json, (s) => {
      const bytes = Buffer.from(s);
      for (const type of [undefined, "application/vnd.oci.image.index.v1+json", "text/plain"]) {
        try {
          parseManifest(bytes, type);
        } catch (error) {
          if (!isRegkitError(error)) throw error;
        }
      }
      parseImageConfig(bytes);
    }));

  it("OCI error bodies", () => property(json, (s) => parseOciErrorBody(s)));

  it("Docker Hub webhook payloads", () =>
    property(
      fc.oneof(
        json,
        fc
          .record({
            callback_url: fc.oneof(fc.webUrl(), fc.string()),
            push_data: fc.record({ tag: fc.string(), pushed_at: fc.oneof(fc.integer(), fc.string()) }),
            repository: fc.record({ repo_name: fc.string(), name: fc.string(), namespace: fc.string() }),
          })
          .map((v) => JSON.stringify(v)),
      ),
      (s) => parseDockerHubWebhook(Buffer.from(s)),
    ));

  it("fault rules (--faults)", () => property(json, (s) => parseFaults(s)));

  it("cassettes", async () => {
    const file = join(dir, "cassette.har");
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          json,
          fc
            .array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 3 })
            .map((entries) => JSON.stringify({ log: { version: "1.2", entries } })),
        ),
        async (s) => {
          const path = `${file}.${n++}`;
          await writeFile(path, s);
          const send = new Replayer(path).middleware().wrap(async () => {
            throw new Error("the network is never reached in replay");
          });
          await survives(() => send({ method: "GET", url: new URL("https://r.example/v2/"), headers: {} }));
        },
      ),
      { numRuns: Math.min(RUNS, 300) },
    );
  });

  it("config files: regkit's and Docker's", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(json, async (s) => {
        const yamlFile = join(dir, `config${n}.yaml`);
        const jsonFile = join(dir, `config${n++}.json`);
        await writeFile(yamlFile, s);
        await writeFile(jsonFile, s);
        await survives(() => loadDockerHubConfig({ env: {}, file: yamlFile }));
        await survives(() => loadDockerHubConfig({ env: {}, file: jsonFile }));
        await survives(() => new DockerConfig(jsonFile).helperFor("registry.example"));
        await survives(() => new DockerConfig(jsonFile).resolve({ registry: "registry.example" }));
      }),
      { numRuns: Math.min(RUNS, 300) },
    );
  });

  it("the bound is real: a pathological input is reported", async () => {
    await expect(
      survives(() => {
        const end = performance.now() + BOUND_MS + 50;
        while (performance.now() < end);
      }),
    ).rejects.toThrow(/took \d+ ms/);
    await expect(
      survives(() => {
        throw new TypeError("boom");
      }),
    ).rejects.toThrow(/non-RegkitError escaped/);
  });
});
