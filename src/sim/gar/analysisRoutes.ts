import { createHash } from "node:crypto";
import type { Context, Hono } from "hono";
import { pageTokenPage } from "../pagination.js";
import type { GarCatalog } from "./catalog.js";
import type { GoogleAuthFake } from "./googleAuthFake.js";
import { googleError } from "./googleShapes.js";

const SEVERITIES = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "MINIMAL"] as const;
const PACKAGES = ["openssl", "zlib", "glibc", "busybox", "libcurl", "expat", "ncurses", "sqlite"];

/**
 * Made-up but stable vulnerability occurrences for an image, derived from
 * its digest, so every pushed image has findings and tests can predict them.
 */
export function seededOccurrences(project: string, resourceUri: string, digest: string, createTime: string) {
  const seed = createHash("sha256").update(digest).digest();
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < 2 + (seed[0]! % 5); i++) {
    const severity = SEVERITIES[seed[i + 1]! % SEVERITIES.length]!;
    const id = `CVE-2026-${String(seed.readUInt16BE(i * 2 + 8)).padStart(5, "0")}`;
    const pkg = PACKAGES[seed[i + 16]! % PACKAGES.length]!;
    const fixable = seed[i + 24]! % 3 !== 0;
    const version = `1.${seed[i + 4]! % 9}.${i}`;
    out.push({
      name: `projects/${project}/occurrences/${createHash("sha256").update(`${resourceUri}/${id}/${i}`).digest("hex").slice(0, 32)}`,
      resourceUri,
      noteName: `projects/goog-vulnz/notes/${id}`,
      kind: "VULNERABILITY",
      createTime,
      updateTime: createTime,
      vulnerability: {
        severity,
        effectiveSeverity: severity,
        cvssScore: [9.8, 7.5, 5.3, 3.1, 1.0][SEVERITIES.indexOf(severity)],
        fixAvailable: fixable,
        shortDescription: id,
        relatedUrls: [{ url: `https://nvd.nist.gov/vuln/detail/${id}`, label: "More Info" }],
        packageIssue: [
          {
            affectedCpeUri: "cpe:/o:debian:debian_linux:12",
            affectedPackage: pkg,
            affectedVersion: { name: version, kind: "NORMAL", fullName: version },
            fixedCpeUri: "cpe:/o:debian:debian_linux:12",
            fixedPackage: pkg,
            fixedVersion: fixable
              ? {
                  name: `1.${(seed[i + 4]! % 9) + 1}.0`,
                  kind: "NORMAL",
                  fullName: `1.${(seed[i + 4]! % 9) + 1}.0`,
                }
              : { kind: "MAXIMUM" },
            fixAvailable: fixable,
            packageType: "OS",
          },
        ],
      },
    });
  }
  return out;
}

/** `resourceUrl="…"` and `kind="…"` terms of a Container Analysis filter. */
function filterTerms(filter: string | null): { resource?: string; kind?: string } {
  const resource = /resource_?url\s*=\s*"([^"]+)"/i.exec(filter ?? "")?.[1];
  const kind = /kind\s*=\s*"?([A-Z_]+)"?/.exec(filter ?? "")?.[1];
  return { ...(resource ? { resource } : {}), ...(kind ? { kind } : {}) };
}

/**
 * Container Analysis v1 under `/containeranalysis/v1`: occurrences (with
 * `filter` by resource URL and kind), one occurrence, notes, and the
 * vulnerability summary, for the images of the caller's projects.
 */
export function mountContainerAnalysis(app: Hono, auth: GoogleAuthFake, catalog: GarCatalog): void {
  const occurrences = async (project: string) => {
    const all: Array<Record<string, unknown>> = [];
    for (const repo of catalog.repositories.filter((r) => r.project === project && r.format === "DOCKER"))
      for (const pkg of await catalog.packages(repo))
        for (const v of (await catalog.versions(repo, pkg)) ?? []) {
          const uri = `https://${repo.location}-docker.pkg.dev/${repo.project}/${repo.repository}/${pkg}@${v.id}`;
          all.push(...seededOccurrences(project, uri, v.id, v.createTime));
        }
    return all;
  };
  app.get("/containeranalysis/v1/*", async (c: Context) => {
    const url = new URL(c.req.url);
    const [projects, project, collection, id, extra] = url.pathname
      .slice("/containeranalysis/v1/".length)
      .split("/");
    if (projects !== "projects" || !project || !collection || extra !== undefined)
      return googleError(c, 404, "Requested entity was not found.");
    const caller = auth.caller(c);
    if (caller === "missing" || caller === "invalid")
      return googleError(c, 401, "Request had invalid authentication credentials.");
    if (!caller.projects.includes(project))
      return googleError(
        c,
        403,
        `Permission "containeranalysis.occurrences.list" denied on resource "projects/${project}" (or it may not exist).`,
      );
    const { resource, kind } = filterTerms(url.searchParams.get("filter"));
    const selected = (await occurrences(project)).filter(
      (o) => (!resource || o.resourceUri === resource) && (!kind || o.kind === kind),
    );
    if (collection === "occurrences:vulnerabilitySummary") {
      const counts = new Map<
        string,
        { resourceUri: string; severity: string; fixableCount: number; totalCount: number }
      >();
      for (const o of selected) {
        const v = o.vulnerability as { effectiveSeverity: string; fixAvailable: boolean };
        const key = `${o.resourceUri}|${v.effectiveSeverity}`;
        const entry = counts.get(key) ?? {
          resourceUri: o.resourceUri as string,
          severity: v.effectiveSeverity,
          fixableCount: 0,
          totalCount: 0,
        };
        entry.totalCount++;
        if (v.fixAvailable) entry.fixableCount++;
        counts.set(key, entry);
      }
      return c.json({
        counts: [...counts.values()].map((e) => ({
          ...e,
          fixableCount: String(e.fixableCount),
          totalCount: String(e.totalCount),
        })),
      });
    }
    if (collection === "occurrences") {
      if (id !== undefined) {
        const found = (await occurrences(project)).find(
          (o) => o.name === `projects/${project}/occurrences/${id}`,
        );
        return found ? c.json(found) : googleError(c, 404, "Requested entity was not found.");
      }
      const page = pageTokenPage(selected, url);
      return c.json({
        occurrences: page.items,
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    }
    if (collection === "notes" && id === undefined) {
      const names = [...new Set(selected.map((o) => o.noteName as string))];
      const page = pageTokenPage(names, url);
      return c.json({
        notes: page.items.map((n) => ({
          name: n,
          kind: "VULNERABILITY",
          shortDescription: n.slice(n.lastIndexOf("/") + 1),
        })),
        ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
      });
    }
    return googleError(c, 404, "Requested entity was not found.");
  });
}
