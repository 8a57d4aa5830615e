import { z } from "zod";
import type { Digest } from "../../core/digest.js";
import { isRegkitError } from "../../core/errors.js";
import { emptyCounts, type Severity, type VulnerabilityReport } from "../vulnerabilities.js";
import type { GoogleClient } from "./googleClient.js";
import { listPage } from "./model.js";
import { type GarImage, imageUrl } from "./names.js";

const packageIssue = z.looseObject({
  affectedPackage: z.string().optional(),
  affectedVersion: z.looseObject({ name: z.string().optional(), fullName: z.string().optional() }).optional(),
  fixedVersion: z
    .looseObject({
      name: z.string().optional(),
      kind: z.string().optional(),
      fullName: z.string().optional(),
    })
    .optional(),
  fixAvailable: z.boolean().optional(),
});

export const occurrence = z.looseObject({
  name: z.string(),
  resourceUri: z.string().optional(),
  noteName: z.string().optional(),
  kind: z.string().optional(),
  createTime: z.string().optional(),
  updateTime: z.string().optional(),
  vulnerability: z
    .looseObject({
      severity: z.string().optional(),
      effectiveSeverity: z.string().optional(),
      cvssScore: z.number().optional(),
      fixAvailable: z.boolean().optional(),
      shortDescription: z.string().optional(),
      relatedUrls: z.array(z.looseObject({ url: z.string().optional() })).optional(),
      packageIssue: z.array(packageIssue).optional(),
    })
    .optional(),
});
/** A Container Analysis occurrence (vulnerability fields read leniently). */
export type Occurrence = z.infer<typeof occurrence>;

const count = z.union([z.string(), z.number()]).transform(Number);
export const vulnerabilitySummary = z.looseObject({
  counts: z
    .array(
      z.looseObject({
        resourceUri: z.string().optional(),
        severity: z.string().optional(),
        fixableCount: count.optional(),
        totalCount: count.optional(),
      }),
    )
    .optional(),
});

/** Container Analysis severities, CRITICAL to UNSPECIFIED. */
export const GOOGLE_SEVERITIES = [
  "CRITICAL",
  "HIGH",
  "MEDIUM",
  "LOW",
  "MINIMAL",
  "SEVERITY_UNSPECIFIED",
] as const;
/** One of Container Analysis' severities. */
export type GoogleSeverity = (typeof GOOGLE_SEVERITIES)[number];

/** The summary of one image: totals and fixable counts per Google severity. */
export interface GarVulnerabilitySummary {
  counts: Record<GoogleSeverity, { total: number; fixable: number }>;
}

/** MINIMAL is below LOW; the shared report has no such level, so it counts as low there. */
function shared(severity: string | undefined): Severity {
  switch (severity) {
    case "CRITICAL":
      return "critical";
    case "HIGH":
      return "high";
    case "MEDIUM":
      return "medium";
    case "LOW":
    case "MINIMAL":
      return "low";
    default:
      return "unknown";
  }
}

/**
 * Container Analysis API v1: the vulnerability occurrences of an image
 * (filtered by its resource URL and kind), notes, the vulnerability
 * summary, and the shared `VulnerabilityReport`.
 */
export class ContainerAnalysisApi {
  readonly #client: GoogleClient;

  constructor(client: GoogleClient) {
    this.#client = client;
  }

  /** Occurrences of a project, optionally filtered (`resourceUrl="…" AND kind="VULNERABILITY"`). */
  occurrences(project: string, options: { filter?: string } = {}): AsyncIterable<Occurrence> {
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/projects/${project}/occurrences`,
        query: { filter: options.filter },
        operation: `list occurrences of projects/${project}`,
        span: "vulnerability.scan",
      },
      "occurrences",
      listPage("occurrences"),
      (value) => occurrence.parse(value),
    );
  }

  /** Notes of a project. */
  notes(project: string, options: { filter?: string } = {}): AsyncIterable<{ name: string }> {
    return this.#client.pages(
      {
        method: "GET",
        path: `v1/projects/${project}/notes`,
        query: { filter: options.filter },
        operation: `list notes of projects/${project}`,
        span: "vulnerability.notes",
      },
      "notes",
      listPage("notes"),
      (value) => z.looseObject({ name: z.string() }).parse(value),
    );
  }

  /** Totals and fixable counts per severity for the occurrences a filter selects. */
  async summary(project: string, filter: string): Promise<GarVulnerabilitySummary> {
    const answer = await this.#client.json(
      {
        method: "GET",
        path: `v1/projects/${project}/occurrences:vulnerabilitySummary`,
        query: { filter },
        operation: `vulnerability summary of projects/${project}`,
        span: "vulnerability.summary",
      },
      vulnerabilitySummary,
    );
    const counts = Object.fromEntries(
      GOOGLE_SEVERITIES.map((s) => [s, { total: 0, fixable: 0 }]),
    ) as GarVulnerabilitySummary["counts"];
    for (const entry of answer.counts ?? []) {
      const key = (GOOGLE_SEVERITIES as readonly string[]).includes(entry.severity ?? "")
        ? (entry.severity as GoogleSeverity)
        : "SEVERITY_UNSPECIFIED";
      counts[key].total += entry.totalCount ?? 0;
      counts[key].fixable += entry.fixableCount ?? 0;
    }
    return { counts };
  }

  /** The image's findings normalised; no access is an answer (`no-access`), not a failure. */
  async report(image: GarImage, digest: Digest): Promise<VulnerabilityReport> {
    const resource = imageUrl(image, digest);
    const base = {
      provider: "gar" as const,
      image: { repository: `${image.project}/${image.repository}/${image.image}`, digest },
    };
    const report: VulnerabilityReport = {
      ...base,
      status: "scanned",
      lastScanned: undefined,
      counts: emptyCounts(),
      vulnerabilities: [],
    };
    try {
      for await (const o of this.occurrences(image.project, {
        filter: `resourceUrl="${resource}" AND kind="VULNERABILITY"`,
      })) {
        const v = o.vulnerability;
        const severity = shared(v?.effectiveSeverity ?? v?.severity);
        const issue = v?.packageIssue?.[0];
        const fixed =
          issue?.fixedVersion?.kind === "MAXIMUM"
            ? undefined
            : (issue?.fixedVersion?.fullName ?? issue?.fixedVersion?.name);
        report.counts[severity]++;
        const when = o.updateTime ? new Date(o.updateTime) : undefined;
        if (when && (!report.lastScanned || when > report.lastScanned)) report.lastScanned = when;
        const url = v?.relatedUrls?.[0]?.url;
        report.vulnerabilities.push({
          id: o.noteName ? o.noteName.slice(o.noteName.lastIndexOf("/") + 1) : o.name,
          severity,
          ...(issue?.affectedPackage ? { package: issue.affectedPackage } : {}),
          ...((issue?.affectedVersion?.fullName ?? issue?.affectedVersion?.name)
            ? { version: issue?.affectedVersion?.fullName ?? issue?.affectedVersion?.name }
            : {}),
          ...(fixed ? { fixedVersion: fixed } : {}),
          ...(url ? { url } : {}),
        });
      }
    } catch (error) {
      if (isRegkitError(error) && (error.category === "authorization" || error.category === "authentication"))
        return {
          ...base,
          status: "no-access",
          lastScanned: undefined,
          counts: emptyCounts(),
          vulnerabilities: [],
        };
      throw error;
    }
    if (report.vulnerabilities.length === 0) report.status = "scanned";
    return report;
  }
}
