import { describe, expect, it } from "vitest";
import {
  repositoryInfoSchema,
  scanSchema,
  searchResultSchema,
  tagSchema,
  toRepository,
  toScan,
  toSearchResult,
  toTag,
} from "./hubModel.js";

describe("Docker Hub scan answers", () => {
  it("keep hostile keys and states out of the report", () => {
    const scan = toScan(
      scanSchema.parse({
        scan_status: "toString",
        summary: { constructor: 5, __proto__: 7, high: 2 },
        vulnerabilities: [{ id: "CVE-1", severity: "weird" }],
      }),
    );
    expect(scan.status).toBe("unknown");
    expect(scan.counts).toEqual({ critical: 0, high: 2, medium: 0, low: 0, unknown: 0 });
    expect(scan.vulnerabilities).toEqual([{ id: "CVE-1", severity: "unknown" }]);
  });
});

describe("Docker Hub answers with fields left out or null", () => {
  const DIGEST = `sha256:${"a".repeat(64)}`;

  it("a tag: sizes 0, dates and platforms absent, a single image object read as a list, bad digests dropped", () => {
    expect(toTag(tagSchema.parse({ name: "v1", digest: null, images: null }))).toEqual({
      name: "v1",
      digest: undefined,
      size: 0,
      lastUpdated: undefined,
      lastPulled: undefined,
      lastUpdater: undefined,
      images: [],
    });
    const tag = toTag(
      tagSchema.parse({
        name: "v2",
        digest: "not-a-digest",
        tag_last_pushed: "2026-03-04T05:06:07Z",
        last_updated: null,
        tag_last_pulled: "garbage",
        last_updater_username: "alice",
        images: {
          digest: DIGEST,
          os: null,
          architecture: "arm64",
          variant: "v8",
          size: null,
          last_pushed: null,
        },
      }),
    );
    expect(tag.digest).toBeUndefined();
    expect(tag.lastUpdated).toEqual(new Date("2026-03-04T05:06:07Z"));
    expect(tag.lastPulled).toBeUndefined();
    expect(tag.lastUpdater).toBe("alice");
    expect(tag.images).toEqual([
      { os: undefined, architecture: "arm64", variant: "v8", digest: DIGEST, size: 0, lastPushed: undefined },
    ]);
  });

  it("a repository: defaults for what is missing, the full description and permissions when given", () => {
    expect(toRepository(repositoryInfoSchema.parse({ name: "app", namespace: "acme" }))).toEqual({
      namespace: "acme",
      name: "app",
      repository: "acme/app",
      description: "",
      isPrivate: false,
      starCount: 0,
      pullCount: 0,
      lastUpdated: undefined,
      dateRegistered: undefined,
    });
    const full = toRepository(
      repositoryInfoSchema.parse({
        name: "app",
        namespace: "acme",
        full_description: "# App",
        permissions: { read: true, write: false, admin: false, extra: 1 },
      }),
    );
    expect(full.fullDescription).toBe("# App");
    expect(full.permissions).toEqual({ read: true, write: false, admin: false });
  });

  it("a search result: defaults for every optional field", () => {
    expect(toSearchResult(searchResultSchema.parse({ repo_name: "library/alpine" }))).toEqual({
      repository: "library/alpine",
      description: "",
      starCount: 0,
      pullCount: 0,
      official: false,
      automated: false,
    });
  });

  it("a scan without a summary is counted from its list; without either it is empty", () => {
    const counted = toScan(
      scanSchema.parse({
        scan_status: "completed",
        last_scanned: "2026-01-02T00:00:00Z",
        vulnerabilities: [
          { id: "CVE-1", severity: "high", package: "openssl", version: "1", fixed_version: "2", url: "u" },
          { id: "CVE-2", severity: "high" },
        ],
      }),
    );
    expect(counted.status).toBe("scanned");
    expect(counted.lastScanned).toEqual(new Date("2026-01-02T00:00:00Z"));
    expect(counted.counts.high).toBe(2);
    expect(counted.vulnerabilities[0]).toEqual({
      id: "CVE-1",
      severity: "high",
      package: "openssl",
      version: "1",
      fixedVersion: "2",
      url: "u",
    });
    const none = toScan(
      scanSchema.parse({ scan_status: "not_scanned", summary: null, vulnerabilities: null }),
    );
    expect(none.status).toBe("not-scanned");
    expect(none.vulnerabilities).toEqual([]);
    expect(Object.values(none.counts).every((n) => n === 0)).toBe(true);
  });
});
