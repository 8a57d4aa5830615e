import { describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { UsageError } from "../core/errors.js";
import { MAX_MANIFEST_BYTES } from "../core/limits.js";
import { MediaType } from "../core/mediaTypes.js";
import { createRegistryApp } from "./app.js";
import { Users } from "./auth/users.js";
import { aliasOrigin, type HostileSpec, parseHostile } from "./hostile.js";

const BASE = "http://127.0.0.1:5000";
const layer = Buffer.from("layer bytes of the hostile test");
const config = Buffer.from("{}");
const manifest = Buffer.from(
  JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: digestOf(config), size: config.length },
    layers: [{ mediaType: MediaType.OciLayerGzip, digest: digestOf(layer), size: layer.length }],
  }),
);

/** An app in hostile mode holding `a/b:v1`, pushed before the hostile behaviours could interfere. */
async function seeded(hostile: HostileSpec, auth: "none" | "token" = "none") {
  const clean = createRegistryApp();
  for (const blob of [layer, config]) {
    const response = await clean.app.request(`${BASE}/v2/a/b/blobs/uploads/?digest=${digestOf(blob)}`, {
      method: "POST",
      body: blob,
    });
    expect(response.status).toBe(201);
  }
  const put = await clean.app.request(`${BASE}/v2/a/b/manifests/v1`, {
    method: "PUT",
    headers: { "content-type": MediaType.OciManifest },
    body: manifest,
  });
  expect(put.status).toBe(201);
  return createRegistryApp({ storage: clean.sim.storage, hostile, auth, users: new Users({ u: "p" }) });
}

describe("hostile mode", () => {
  it("parses kinds, refusing unknown ones with the list of known ones", () => {
    expect(parseHostile(" wrong-blob-bytes, looping-link ")).toEqual(["wrong-blob-bytes", "looping-link"]);
    expect(() => parseHostile("nope")).toThrow(UsageError);
    expect(() => parseHostile("nope")).toThrow(/known: wrong-blob-bytes, wrong-manifest-bytes/);
    expect(() => parseHostile(" , ")).toThrow(/at least one/);
    expect(() => createRegistryApp({ hostile: ["bogus" as never] })).toThrow(UsageError);
    expect(aliasOrigin(new URL("http://127.0.0.1:5000/v2/"))).toBe("http://localhost:5000");
    expect(aliasOrigin(new URL("https://localhost:8443/"))).toBe("https://127.0.0.1:8443");
  });

  it("serves other bytes of the same length, or an endless body, for a blob", async () => {
    const wrong = await seeded("wrong-blob-bytes");
    const served = Buffer.from(
      await (await wrong.app.request(`${BASE}/v2/a/b/blobs/${digestOf(layer)}`)).arrayBuffer(),
    );
    expect(served.length).toBe(layer.length);
    expect(served.equals(layer)).toBe(false);
    const endless = await seeded(["endless-body"]);
    const response = await endless.app.request(`${BASE}/v2/a/b/blobs/${digestOf(layer)}`);
    expect(response.headers.get("content-length")).toBeNull();
    const reader = response.body!.getReader();
    let bytes = 0;
    while (bytes < 1024 * 1024) bytes += (await reader.read()).value!.byteLength;
    await reader.cancel();
    expect(bytes).toBeGreaterThanOrEqual(1024 * 1024);
  });

  it("serves manifests over the cap, with and without Content-Length", async () => {
    for (const [kind, length] of [
      ["oversized-manifest", String(MAX_MANIFEST_BYTES + 1)],
      ["oversized-manifest-chunked", null],
    ] as const) {
      const { app } = await seeded([kind]);
      const response = await app.request(`${BASE}/v2/a/b/manifests/v1`);
      expect(response.headers.get("content-length")).toBe(length);
      expect((await response.arrayBuffer()).byteLength).toBe(MAX_MANIFEST_BYTES + 1);
    }
  });

  it("serves a by-tag manifest off its digest header, or with path characters under a matching one", async () => {
    const mismatch = await seeded(["manifest-digest-mismatch"]);
    const response = await mismatch.app.request(`${BASE}/v2/a/b/manifests/v1`);
    const body = Buffer.from(await response.arrayBuffer());
    expect(response.headers.get("docker-content-digest")).toBe(digestOf(manifest));
    expect(digestOf(body)).not.toBe(digestOf(manifest));
    const paths = await seeded(["path-digests"]);
    const poisoned = await paths.app.request(`${BASE}/v2/a/b/manifests/v1`);
    const text = await poisoned.text();
    expect(text).toContain('"sha256:../../../../etc/passwd"');
    expect(text).toContain('"sha256:..%2F..%2F..%2Fhostile"');
    expect(poisoned.headers.get("docker-content-digest")).toBe(digestOf(text));
  });

  it("redirects blobs, moves upload Locations and token realms to the other host, and logs credentials", async () => {
    const { app, hostile } = await seeded(
      ["foreign-blob-redirect", "foreign-upload-location", "foreign-token-realm"],
      "token",
    );
    const blob = await app.request(`${BASE}/v2/a/b/blobs/${digestOf(layer)}`, {
      headers: { authorization: "Bearer x" },
    });
    expect(blob.status).toBe(307);
    expect(blob.headers.get("location")).toBe(
      `http://localhost:5000/v2/a/b/blobs/${digestOf(layer)}?hostile-foreign=1`,
    );
    const challenge = await app.request(`${BASE}/v2/a/b/blobs/uploads/`, { method: "POST" });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get("www-authenticate")).toContain('realm="http://localhost:5000/token"');
    expect(hostile!.seen).toEqual([
      {
        method: "GET",
        host: "127.0.0.1:5000",
        path: `/v2/a/b/blobs/${digestOf(layer)}`,
        authorization: true,
      },
      { method: "POST", host: "127.0.0.1:5000", path: "/v2/a/b/blobs/uploads/", authorization: false },
    ]);
    const open = await seeded({ kinds: ["foreign-upload-location"], foreignOrigin: "http://127.0.0.9:1/" });
    const started = await open.app.request(`${BASE}/v2/a/b/blobs/uploads/`, { method: "POST" });
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toMatch(
      /^http:\/\/127\.0\.0\.9:1\/v2\/a\/b\/blobs\/uploads\/[^/?]+\?hostile-foreign=1$/,
    );
  });

  it("holds a gzip bomb under hostile/bomb:v1", async () => {
    const { app } = createRegistryApp({ hostile: ["gzip-bomb"] });
    const response = await app.request(`${BASE}/v2/hostile/bomb/manifests/v1`);
    expect(response.status).toBe(200);
    const image = (await response.json()) as { layers: Array<{ size: number }> };
    expect(image.layers[0]!.size).toBeGreaterThan(128 * 1024);
    expect(image.layers[0]!.size).toBeLessThan(4 * 1024 * 1024);
  });

  it("links tag pages back to themselves under a new URL each time", async () => {
    const { app } = await seeded(["looping-link"]);
    const first = await app.request(`${BASE}/v2/a/b/tags/list?n=10`);
    const second = await app.request(`${BASE}/v2/a/b/tags/list?n=10&loop=1`);
    expect(first.headers.get("link")).toBe('</v2/a/b/tags/list?n=10&loop=1>; rel="next"');
    expect(second.headers.get("link")).toBe('</v2/a/b/tags/list?n=10&loop=2>; rel="next"');
    expect(await second.json()).toEqual(await first.json());
  });
});
