import type { Digest } from "../core/digest.js";

export type Severity = "critical" | "high" | "medium" | "low" | "unknown";

export const SEVERITIES: readonly Severity[] = ["critical", "high", "medium", "low", "unknown"];

export interface Vulnerability {
  id: string;
  severity: Severity;
  package?: string;
  version?: string;
  fixedVersion?: string;
  /** Advisory link. */
  url?: string;
}

/**
 * One provider-neutral answer to "what is known to be vulnerable in this
 * image": Docker Hub scan overviews, GitHub and Container Analysis findings
 * all normalise to it. `not-scanned` and `no-access` are answers, not errors:
 * a gate can decide what they mean.
 */
export interface VulnerabilityReport {
  provider: "dockerhub" | "ghcr" | "gar";
  image: { repository: string; digest: Digest };
  status: "scanned" | "pending" | "not-scanned" | "failed" | "no-access" | "unknown";
  lastScanned: Date | undefined;
  counts: Record<Severity, number>;
  vulnerabilities: Vulnerability[];
}

export function emptyCounts(): Record<Severity, number> {
  return { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
}
