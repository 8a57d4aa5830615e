/**
 * The embedded registry spoken to with plain HTTP (not regkit's client), so
 * its behaviour is checked against the OCI distribution spec on its own.
 */
import { createHash, randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { MediaType } from "../core/mediaTypes.js";
import { type RegistryServer, startRegistryServer } from "./server.js";

let server: RegistryServer;
let noReferrers: RegistryServer;

beforeAll(async () => {
  server = await startRegistryServer({ maxBlobBytes: 64 * 1024 * 1024 });
  noReferrers = await startRegistryServer({ referrers: false, defaultPageSize: 2 });
});
afterAll(async () => {
  await server.close();
  await noReferrers.close();
});

const url = (path: string, s = server) => `${s.url}${path}`;
const errorCode = async (res: Response) =>
  ((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code;

async function pushBlob(repo: string, bytes: Buffer, s = server): Promise<string> {
  const digest = digestOf(bytes);
  const res = await fetch(url(`/v2/${repo}/blobs/uploads/?digest=${digest}`, s), {
    method: "POST",
    body: bytes,
  });
  expect(res.status).toBe(201);
  return digest;
}

async function pushImage(repo: string, tag: string, extra: Record<string, unknown> = {}, s = server) {
  const config = Buffer.from(`{"seed":"${randomBytes(4).toString("hex")}"}`);
  const layer = randomBytes(1000);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: {
        mediaType: MediaType.OciConfig,
        digest: await pushBlob(repo, config, s),
        size: config.length,
      },
      layers: [
        { mediaType: MediaType.OciLayerGzip, digest: await pushBlob(repo, layer, s), size: layer.length },
      ],
      ...extra,
    }),
  );
  const res = await fetch(url(`/v2/${repo}/manifests/${tag}`, s), {
    method: "PUT",
    headers: { "content-type": MediaType.OciManifest },
    body: manifest,
  });
  return { res, manifest, digest: digestOf(manifest) };
}

describe("embedded registry", () => {
  it("answers the API check with the distribution version header", async () => {
    const res = await fetch(url("/v2/"));
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  it("stores manifests under nested names and serves the exact bytes by tag and digest", async () => {
    const { res, manifest, digest } = await pushImage("org/team/image", "v1");
    expect(res.status).toBe(201);
    expect(res.headers.get("docker-content-digest")).toBe(digest);
    expect(res.headers.get("location")).toBe(`/v2/org/team/image/manifests/${digest}`);
    for (const ref of ["v1", digest]) {
      const got = await fetch(url(`/v2/org/team/image/manifests/${ref}`));
      expect(got.headers.get("content-type")).toBe(MediaType.OciManifest);
      expect(Buffer.from(await got.arrayBuffer()).equals(manifest)).toBe(true);
    }
    const head = await fetch(url("/v2/org/team/image/manifests/v1"), { method: "HEAD" });
    expect(head.headers.get("content-length")).toBe(String(manifest.length));
  });

  it("refuses manifests that are invalid, mismatched or reference missing content", async () => {
    const put = (ref: string, body: string, type: string = MediaType.OciManifest) =>
      fetch(url(`/v2/bad/manifests/${ref}`), { method: "PUT", headers: { "content-type": type }, body });
    const missing = JSON.stringify({
      schemaVersion: 2,
      config: { mediaType: MediaType.OciConfig, digest: digestOf("nope"), size: 4 },
      layers: [],
    });
    let res = await put("v1", missing);
    expect([res.status, await errorCode(res)]).toEqual([400, "MANIFEST_BLOB_UNKNOWN"]);
    res = await put("v1", "not json");
    expect([res.status, await errorCode(res)]).toEqual([400, "MANIFEST_INVALID"]);
    res = await put(digestOf("other"), missing);
    expect([res.status, await errorCode(res)]).toEqual([400, "DIGEST_INVALID"]);
    res = await put("bad tag!", missing);
    expect([res.status, await errorCode(res)]).toEqual([400, "TAG_INVALID"]);
    res = await put("v1", "x".repeat(4 * 1024 * 1024 + 1));
    expect([res.status, await errorCode(res)]).toEqual([413, "SIZE_INVALID"]);
    res = await fetch(url("/v2/UPPER/manifests/v1"));
    expect([res.status, await errorCode(res)]).toEqual([400, "NAME_INVALID"]);
    res = await fetch(url("/v2/never/pushed/manifests/v1"));
    expect([res.status, await errorCode(res)]).toEqual([404, "NAME_UNKNOWN"]);
    res = await fetch(url("/v2/org/team/image/manifests/v999"));
    expect([res.status, await errorCode(res)]).toEqual([404, "MANIFEST_UNKNOWN"]);
  });

  it("uploads in chunks, reports progress for resuming, and rejects out-of-order chunks", async () => {
    const bytes = randomBytes(300_000);
    let res = await fetch(url("/v2/chunky/blobs/uploads/"), { method: "POST" });
    expect(res.status).toBe(202);
    expect(res.headers.get("range")).toBe("0-0");
    let location = res.headers.get("location")!;
    for (const [start, end] of [
      [0, 99_999],
      [100_000, 199_999],
    ]) {
      res = await fetch(url(location), {
        method: "PATCH",
        headers: { "content-range": `${start}-${end}`, "content-type": "application/octet-stream" },
        body: bytes.subarray(start!, end! + 1),
      });
      expect(res.status).toBe(202);
      expect(res.headers.get("range")).toBe(`0-${end}`);
      location = res.headers.get("location")!;
    }
    res = await fetch(url(location), {
      method: "PATCH",
      headers: { "content-range": "50-99" },
      body: "x".repeat(50),
    });
    expect(res.status).toBe(416);
    expect(res.headers.get("range")).toBe("0-199999");
    res = await fetch(url(location));
    expect([res.status, res.headers.get("range")]).toEqual([204, "0-199999"]);
    res = await fetch(url(`${location}?digest=${digestOf(bytes)}`), {
      method: "PUT",
      body: bytes.subarray(200_000),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/v2/chunky/blobs/${digestOf(bytes)}`);
    const blob = await fetch(url(`/v2/chunky/blobs/${digestOf(bytes)}`));
    expect(Buffer.from(await blob.arrayBuffer()).equals(bytes)).toBe(true);
  });

  it("rejects a wrong digest and forgets the session; cancels sessions", async () => {
    let res = await fetch(url("/v2/d/blobs/uploads/"), { method: "POST" });
    const location = res.headers.get("location")!;
    res = await fetch(url(`${location}?digest=${digestOf("other")}`), { method: "PUT", body: "content" });
    expect([res.status, await errorCode(res)]).toEqual([400, "DIGEST_INVALID"]);
    res = await fetch(url(location));
    expect([res.status, await errorCode(res)]).toEqual([404, "BLOB_UPLOAD_UNKNOWN"]);
    res = await fetch(url("/v2/d/blobs/uploads/"), { method: "POST" });
    const other = res.headers.get("location")!;
    expect((await fetch(url(other), { method: "DELETE" })).status).toBe(204);
    expect((await fetch(url(other))).status).toBe(404);
  });

  it("mounts from a repository that has the blob and opens a session otherwise", async () => {
    const digest = await pushBlob("mount/src", randomBytes(100));
    let res = await fetch(url(`/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`), {
      method: "POST",
    });
    expect(res.status).toBe(201);
    expect((await fetch(url(`/v2/mount/dst/blobs/${digest}`), { method: "HEAD" })).status).toBe(200);
    res = await fetch(url(`/v2/mount/other/blobs/uploads/?mount=${digest}&from=mount/empty`), {
      method: "POST",
    });
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toMatch(/^\/v2\/mount\/other\/blobs\/uploads\//);
  });

  it("keeps blobs per repository, serves ranges, deletes", async () => {
    const bytes = randomBytes(1000);
    const digest = await pushBlob("ranges", bytes);
    expect((await fetch(url(`/v2/elsewhere/blobs/${digest}`), { method: "HEAD" })).status).toBe(404);
    let res = await fetch(url(`/v2/ranges/blobs/${digest}`), { headers: { range: "bytes=10-19" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 10-19/1000");
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
    res = await fetch(url(`/v2/ranges/blobs/${digest}`), { headers: { range: "bytes=2000-" } });
    expect(res.status).toBe(416);
    expect((await fetch(url(`/v2/ranges/blobs/${digest}`), { method: "DELETE" })).status).toBe(202);
    res = await fetch(url(`/v2/ranges/blobs/${digest}`));
    expect([res.status, await errorCode(res)]).toEqual([404, "BLOB_UNKNOWN"]);
  });

  it("round-trips a 32 MiB blob", async () => {
    // A server of its own: a keep-alive connection left by earlier tests must not carry this upload.
    const big = await startRegistryServer({ maxBlobBytes: 64 * 1024 * 1024 });
    try {
      const bytes = randomBytes(32 * 1024 * 1024);
      const digest = await pushBlob("big", bytes, big);
      const res = await fetch(url(`/v2/big/blobs/${digest}`, big));
      const hash = createHash("sha256");
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
      expect(`sha256:${hash.digest("hex")}`).toBe(digest);
    } finally {
      await big.close();
    }
  });

  it("leaves nothing visible when a client disconnects mid-upload", async () => {
    const bytes = randomBytes(2 * 1024 * 1024);
    await new Promise<void>((resolve) => {
      const req = httpRequest(url(`/v2/aborted/blobs/uploads/?digest=${digestOf(bytes)}`), {
        method: "POST",
        headers: { "content-length": String(bytes.length) },
      });
      req.on("error", () => resolve());
      req.write(bytes.subarray(0, 1024 * 1024), () => setTimeout(() => req.destroy(), 50));
    });
    const res = await fetch(url(`/v2/aborted/blobs/${digestOf(bytes)}`), { method: "HEAD" });
    expect(res.status).toBe(404);
  });

  it("deletes tags and manifests", async () => {
    const { digest } = await pushImage("del", "a");
    await fetch(url(`/v2/del/manifests/${digest}`), {
      method: "PUT",
      headers: { "content-type": MediaType.OciManifest },
      body: await (await fetch(url("/v2/del/manifests/a"))).arrayBuffer(),
    });
    await fetch(url("/v2/del/manifests/b"), {
      method: "PUT",
      headers: { "content-type": MediaType.OciManifest },
      body: await (await fetch(url("/v2/del/manifests/a"))).arrayBuffer(),
    });
    expect((await fetch(url("/v2/del/manifests/a"), { method: "DELETE" })).status).toBe(202);
    expect(((await (await fetch(url("/v2/del/tags/list"))).json()) as { tags: string[] }).tags).toEqual([
      "b",
    ]);
    expect((await fetch(url(`/v2/del/manifests/${digest}`), { method: "DELETE" })).status).toBe(202);
    expect(((await (await fetch(url("/v2/del/tags/list"))).json()) as { tags: string[] }).tags).toEqual([]);
    expect((await fetch(url(`/v2/del/manifests/${digest}`))).status).toBe(404);
  });

  it("paginates tags and the catalog with n, last and Link", async () => {
    const { manifest } = await pushImage("paged", "t1", {}, noReferrers);
    for (const tag of ["t2", "t3", "t4", "t5"]) {
      await fetch(url(`/v2/paged/manifests/${tag}`, noReferrers), {
        method: "PUT",
        headers: { "content-type": MediaType.OciManifest },
        body: manifest,
      });
    }
    const pages: string[][] = [];
    let next: string | undefined = "/v2/paged/tags/list";
    while (next) {
      const res = await fetch(url(next, noReferrers));
      pages.push(((await res.json()) as { tags: string[] }).tags);
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
    }
    expect(pages).toEqual([["t1", "t2"], ["t3", "t4"], ["t5"]]);
    const explicit = await fetch(url("/v2/paged/tags/list?n=3&last=t1", noReferrers));
    expect(((await explicit.json()) as { tags: string[] }).tags).toEqual(["t2", "t3", "t4"]);
    const none = await fetch(url("/v2/paged/tags/list?n=0", noReferrers));
    expect(((await none.json()) as { tags: string[] }).tags).toEqual([]);
    const catalog = await fetch(url("/v2/_catalog?n=10", noReferrers));
    expect(((await catalog.json()) as { repositories: string[] }).repositories).toEqual(["paged"]);
  });

  it("lists referrers with artifactType filtering, or 404 when disabled", async () => {
    const { digest: subject, manifest } = await pushImage("refs", "app");
    const subjectDescriptor = { mediaType: MediaType.OciManifest, digest: subject, size: manifest.length };
    const sbom = await pushImage("refs", "sbom", {
      artifactType: "application/spdx+json",
      subject: subjectDescriptor,
      annotations: { a: "b" },
    });
    expect(sbom.res.headers.get("oci-subject")).toBe(subject);
    await pushImage("refs", "sig", {
      artifactType: "application/vnd.dev.cosign",
      subject: subjectDescriptor,
    });
    let res = await fetch(url(`/v2/refs/referrers/${subject}`));
    expect(res.headers.get("content-type")).toBe(MediaType.OciIndex);
    const all = (await res.json()) as {
      manifests: Array<{ artifactType: string; annotations?: Record<string, string> }>;
    };
    expect(all.manifests.map((m) => m.artifactType).sort()).toEqual([
      "application/spdx+json",
      "application/vnd.dev.cosign",
    ]);
    res = await fetch(
      url(`/v2/refs/referrers/${subject}?artifactType=${encodeURIComponent("application/spdx+json")}`),
    );
    expect(res.headers.get("oci-filters-applied")).toBe("artifactType");
    const filtered = (await res.json()) as {
      manifests: Array<{ digest: string; annotations?: Record<string, string> }>;
    };
    expect(filtered.manifests).toHaveLength(1);
    expect(filtered.manifests[0]?.digest).toBe(sbom.digest);
    expect(filtered.manifests[0]?.annotations).toEqual({ a: "b" });
    res = await fetch(url(`/v2/refs/referrers/${digestOf("nothing")}`));
    expect(((await res.json()) as { manifests: unknown[] }).manifests).toEqual([]);
    expect((await fetch(url(`/v2/refs/referrers/${subject}`, noReferrers))).status).toBe(404);
  });

  it("returns promptly from close() with open keep-alive connections", async () => {
    const extra = await startRegistryServer();
    await fetch(url("/v2/", extra));
    const started = Date.now();
    await extra.close();
    // Generous: a close that waited for the idle connection would take the keep-alive timeout (4-5 s).
    expect(Date.now() - started).toBeLessThan(3000);
    await expect(fetch(url("/v2/", extra))).rejects.toThrow();
  });
});

describe("bad input leaves storage unchanged", () => {
  it("answers path tricks, bad ranges, unknown sessions and broken manifests with OCI errors", async () => {
    const s = await startRegistryServer();
    try {
      const before = await s.storage.repositories();
      const raw = (path: string, init?: RequestInit) => fetch(`${s.url}${path}`, init);
      const code = async (res: Response) => [
        res.status,
        ((await res.json()) as { errors: Array<{ code: string }> }).errors[0]?.code,
      ];
      expect(await code(await raw("/v2/a/..%2F..%2Fetc/manifests/v1"))).toEqual([400, "NAME_INVALID"]);
      expect(await code(await raw("/v2/a/%2E%2E%2Fb/manifests/v1"))).toEqual([400, "NAME_INVALID"]);
      expect(await code(await raw("/v2/UPPER/blobs/uploads/", { method: "POST" }))).toEqual([
        400,
        "NAME_INVALID",
      ]);
      expect(
        await code(
          await raw("/v2/ok/blobs/uploads/00000000-0000-4000-8000-000000000000", {
            method: "PATCH",
            body: "x",
          }),
        ),
      ).toEqual([404, "BLOB_UPLOAD_UNKNOWN"]);
      expect(await code(await raw("/v2/ok/blobs/uploads/not-a-uuid/../../x", { method: "PUT" }))).toEqual([
        404,
        "NOT_FOUND",
      ]);
      const session = (await raw("/v2/ok/blobs/uploads/", { method: "POST" })).headers.get("location")!;
      expect(
        (await raw(session, { method: "PATCH", headers: { "content-range": "5-2" }, body: "x" })).status,
      ).toBe(416);
      expect(
        (await raw(session, { method: "PATCH", headers: { "content-range": "garbage" }, body: "x" })).status,
      ).toBe(416);
      expect(await code(await raw(`${session}?digest=sha256:bad`, { method: "PUT" }))).toEqual([
        400,
        "DIGEST_INVALID",
      ]);
      const manifest = (body: string) =>
        raw("/v2/ok/manifests/v1", {
          method: "PUT",
          headers: { "content-type": MediaType.OciManifest },
          body,
        });
      expect(await code(await manifest("{broken"))).toEqual([400, "MANIFEST_INVALID"]);
      expect(
        await code(await manifest(JSON.stringify({ schemaVersion: 2, config: {}, layers: [] }))),
      ).toEqual([400, "MANIFEST_INVALID"]);
      expect(await code(await manifest(" ".repeat(4 * 1024 * 1024 + 1)))).toEqual([413, "SIZE_INVALID"]);
      expect(await s.storage.repositories()).toEqual(before);
      expect(await s.storage.tags("ok")).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
