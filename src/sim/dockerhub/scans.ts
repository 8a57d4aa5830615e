import { createHash } from "node:crypto";
import type { Digest } from "../../core/digest.js";

export type ScanStatus = "completed" | "in_progress" | "not_scanned" | "failed";

export interface ScanVulnerability {
  id: string;
  severity: "critical" | "high" | "medium" | "low" | "unknown";
  package: string;
  version: string;
  fixed_version: string | null;
  url: string;
}

/** The scan overview the fake serves (Docker Hub publishes no schema for it; see README). */
export interface ScanOverview {
  digest: Digest;
  scan_status: ScanStatus;
  last_scanned: string | null;
  summary: Record<ScanVulnerability["severity"], number>;
  vulnerabilities: ScanVulnerability[];
}

const PACKAGES = ["openssl", "zlib", "busybox", "musl", "libcurl", "expat", "ncurses", "sqlite"];
const SEVERITIES: Array<[ScanVulnerability["severity"], number]> = [
  ["critical", 2],
  ["high", 3],
  ["medium", 4],
  ["low", 5],
];

/**
 * A made-up but stable scan result derived from the digest, so every image
 * pushed to the fake has findings to show and tests can predict them.
 */
export function syntheticScan(digest: Digest, scannedAt: string): ScanOverview {
  const seed = createHash("sha256").update(digest).digest();
  const vulnerabilities: ScanVulnerability[] = [];
  let n = 0;
  for (const [index, [severity, spread]] of SEVERITIES.entries()) {
    const count = seed[index]! % spread;
    for (let i = 0; i < count; i++, n++) {
      const id = `CVE-2026-${String(seed.readUInt16BE(8 + (n % 20))).padStart(5, "0")}`;
      const pkg = PACKAGES[(seed[4 + (n % 20)] ?? 0) % PACKAGES.length]!;
      vulnerabilities.push({
        id,
        severity,
        package: pkg,
        version: `1.${seed[n % 32]! % 10}.${n}`,
        fixed_version: severity === "low" ? null : `1.${(seed[n % 32]! % 10) + 1}.0`,
        url: `https://nvd.nist.gov/vuln/detail/${id}`,
      });
    }
  }
  const summary = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const v of vulnerabilities) summary[v.severity]++;
  return { digest, scan_status: "completed", last_scanned: scannedAt, summary, vulnerabilities };
}

export function unscanned(digest: Digest, status: ScanStatus = "not_scanned"): ScanOverview {
  return {
    digest,
    scan_status: status,
    last_scanned: null,
    summary: { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 },
    vulnerabilities: [],
  };
}
