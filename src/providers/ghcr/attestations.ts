import type { Digest } from "../../core/digest.js";
import type { Descriptor } from "../../core/manifest.js";
import type { Repository } from "../../registry/repository.js";
import {
  emptyCounts,
  type Severity,
  type Vulnerability,
  type VulnerabilityReport,
} from "../vulnerabilities.js";
import { cosignTag } from "./images.js";

/**
 * Vulnerability data attached to an image on GHCR. GitHub's REST API has no
 * vulnerability endpoint for container versions, so the source is what
 * scanners attach: referrers (or cosign's `.att` tag) carrying a cosign
 * vulnerability attestation (`https://cosign.sigstore.dev/attestation/vuln/v1`,
 * its `scanner.result` a Trivy JSON report or SARIF), a SARIF log, or an
 * OpenVEX document whose `not_affected`/`fixed` statements drop findings.
 */
export const COSIGN_VULN_PREDICATE = "https://cosign.sigstore.dev/attestation/vuln/v1";
/** Media type of a SARIF 2.1 log attached as a layer or artifact. */
export const SARIF_MEDIA_TYPE = "application/sarif+json";
/** Media type of an OpenVEX document attached as a layer or artifact. */
export const OPENVEX_MEDIA_TYPE = "application/vnd.openvex+json";
export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
export const DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json";

/** Attestation layers are small JSON documents; a larger one is not read. */
const MAX_DOCUMENT = 8 * 1024 * 1024;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === "object" && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export function severityOf(value: unknown): Severity {
  const text = String(value ?? "").toLowerCase();
  if (text === "critical" || text === "high" || text === "medium" || text === "low") return text;
  if (text === "moderate") return "medium";
  return "unknown";
}

/** CVSS score (SARIF's `security-severity`) → severity, as GitHub code scanning maps it. */
export function severityOfScore(score: number): Severity {
  if (!Number.isFinite(score) || score <= 0) return "unknown";
  if (score >= 9) return "critical";
  if (score >= 7) return "high";
  if (score >= 4) return "medium";
  return "low";
}

export interface ScanFindings {
  scanner: string | undefined;
  scannedAt: Date | undefined;
  vulnerabilities: Vulnerability[];
}

/** Trivy's JSON report (`Results[].Vulnerabilities[]`). */
function fromTrivy(report: Json): Vulnerability[] {
  const out: Vulnerability[] = [];
  for (const result of Array.isArray(report.Results) ? report.Results : []) {
    if (!isObject(result)) continue;
    for (const v of Array.isArray(result.Vulnerabilities) ? result.Vulnerabilities : []) {
      if (!isObject(v) || !str(v.VulnerabilityID)) continue;
      const fixed = str(v.FixedVersion);
      const pkg = str(v.PkgName);
      const version = str(v.InstalledVersion);
      const url = str(v.PrimaryURL);
      out.push({
        id: str(v.VulnerabilityID)!,
        severity: severityOf(v.Severity),
        ...(pkg ? { package: pkg } : {}),
        ...(version ? { version } : {}),
        ...(fixed ? { fixedVersion: fixed } : {}),
        ...(url ? { url } : {}),
      });
    }
  }
  return out;
}

/** A SARIF 2.1 log: one finding per result, its severity from the rule (`security-severity`, tags, level). */
function fromSarif(log: Json): ScanFindings {
  const out: Vulnerability[] = [];
  let scanner: string | undefined;
  for (const run of Array.isArray(log.runs) ? log.runs : []) {
    if (!isObject(run)) continue;
    const driver = isObject(run.tool) && isObject(run.tool.driver) ? run.tool.driver : {};
    scanner ??= [str(driver.name), str(driver.version)].filter(Boolean).join(" ") || undefined;
    const rules = new Map<string, Json>();
    for (const rule of Array.isArray(driver.rules) ? driver.rules : [])
      if (isObject(rule) && str(rule.id)) rules.set(rule.id as string, rule);
    const seen = new Set<string>();
    for (const result of Array.isArray(run.results) ? run.results : []) {
      if (!isObject(result) || !str(result.ruleId)) continue;
      const id = result.ruleId as string;
      if (seen.has(id)) continue;
      seen.add(id);
      const rule = rules.get(id) ?? {};
      const props = isObject(rule.properties) ? rule.properties : {};
      const tags = Array.isArray(props.tags) ? props.tags.map(String) : [];
      let severity = severityOfScore(Number(props["security-severity"]));
      if (severity === "unknown") severity = tags.map(severityOf).find((s) => s !== "unknown") ?? "unknown";
      if (severity === "unknown") {
        const level =
          str(result.level) ??
          (isObject(rule.defaultConfiguration) ? str(rule.defaultConfiguration.level) : undefined);
        severity =
          level === "error" ? "high" : level === "warning" ? "medium" : level === "note" ? "low" : "unknown";
      }
      const url = str(rule.helpUri);
      out.push({ id, severity, ...(url ? { url } : {}) });
    }
  }
  return { scanner, scannedAt: undefined, vulnerabilities: out };
}

/** The predicate of a cosign vulnerability attestation. */
function fromCosignVuln(predicate: Json): ScanFindings {
  const scannerInfo = isObject(predicate.scanner) ? predicate.scanner : {};
  const result = isObject(scannerInfo.result) ? scannerInfo.result : {};
  const metadata = isObject(predicate.metadata) ? predicate.metadata : {};
  const finished = str(metadata.scanFinishedOn) ?? str(metadata.scanStartedOn);
  const scanner = [str(scannerInfo.uri), str(scannerInfo.version)].filter(Boolean).join("@") || undefined;
  const vulnerabilities = Array.isArray(result.runs) ? fromSarif(result).vulnerabilities : fromTrivy(result);
  const at = finished ? new Date(finished) : undefined;
  return { scanner, scannedAt: at && !Number.isNaN(at.getTime()) ? at : undefined, vulnerabilities };
}

/** OpenVEX statements that clear a vulnerability (`not_affected`, `fixed`). */
function clearedByVex(doc: Json): Set<string> {
  const cleared = new Set<string>();
  for (const s of Array.isArray(doc.statements) ? doc.statements : []) {
    if (!isObject(s)) continue;
    const name = isObject(s.vulnerability) ? str(s.vulnerability.name) : str(s.vulnerability);
    if (name && (s.status === "not_affected" || s.status === "fixed")) cleared.add(name);
  }
  return cleared;
}

/** What one attached document says: findings, VEX clearances, or nothing regkit reads. */
export function readDocument(bytes: Buffer): { findings?: ScanFindings; cleared?: Set<string> } | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isObject(doc)) return undefined;
  // A DSSE envelope wraps an in-toto statement, base64-encoded.
  if (str(doc.payloadType) && str(doc.payload)) {
    return readDocument(Buffer.from(doc.payload as string, "base64"));
  }
  if (str(doc.predicateType) && isObject(doc.predicate)) {
    if (doc.predicateType === COSIGN_VULN_PREDICATE) return { findings: fromCosignVuln(doc.predicate) };
    if (/openvex/i.test(doc.predicateType as string)) return { cleared: clearedByVex(doc.predicate) };
    return undefined;
  }
  if (Array.isArray(doc.runs) && str(doc.version)) return { findings: fromSarif(doc) };
  if (str(doc["@context"])?.includes("openvex")) return { cleared: clearedByVex(doc) };
  return undefined;
}

async function readBlob(repository: Repository, descriptor: Descriptor): Promise<Buffer | undefined> {
  if (descriptor.size > MAX_DOCUMENT) return undefined;
  const blob = await repository.blobs.fetch(descriptor.digest as Digest, { size: descriptor.size });
  const chunks: Buffer[] = [];
  for await (const chunk of blob.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Referrers and cosign's `.att` tag of `subject`: the manifests that may carry scan data. */
async function attachedManifests(repository: Repository, subject: Digest): Promise<Digest[]> {
  const { referrers } = await repository.referrers.list(subject);
  const digests = referrers.map((r) => r.digest as Digest);
  if (await repository.manifests.exists(cosignTag(subject, "att")))
    digests.push((await repository.manifests.head(cosignTag(subject, "att"))).digest as Digest);
  return [...new Set(digests)];
}

/**
 * The vulnerability report of one image from what is attached to it. No
 * scan data attached is an answer (`not-scanned`), not an error.
 */
export async function attachedVulnerabilities(
  repository: Repository,
  subject: Digest,
): Promise<VulnerabilityReport & { scanner?: string }> {
  const scans: ScanFindings[] = [];
  const cleared = new Set<string>();
  for (const digest of await attachedManifests(repository, subject)) {
    const manifest = await repository.manifests.get(digest);
    if (manifest.kind !== "image") continue;
    for (const layer of manifest.manifest.layers) {
      const bytes = await readBlob(repository, layer);
      const read = bytes ? readDocument(bytes) : undefined;
      if (read?.findings) scans.push(read.findings);
      for (const id of read?.cleared ?? []) cleared.add(id);
    }
  }
  const image = { repository: repository.name, digest: subject };
  if (scans.length === 0)
    return {
      provider: "ghcr",
      image,
      status: "not-scanned",
      lastScanned: undefined,
      counts: emptyCounts(),
      vulnerabilities: [],
    };
  // The latest scan speaks for the image; VEX statements clear what they cover.
  scans.sort((a, b) => (b.scannedAt?.getTime() ?? 0) - (a.scannedAt?.getTime() ?? 0));
  const latest = scans[0]!;
  const byId = new Map<string, Vulnerability>();
  for (const v of latest.vulnerabilities)
    if (!cleared.has(v.id) && !byId.has(`${v.id} ${v.package ?? ""}`))
      byId.set(`${v.id} ${v.package ?? ""}`, v);
  const vulnerabilities = [...byId.values()];
  const counts = emptyCounts();
  for (const v of vulnerabilities) counts[v.severity]++;
  return {
    provider: "ghcr",
    image,
    status: "scanned",
    lastScanned: latest.scannedAt,
    counts,
    vulnerabilities,
    ...(latest.scanner ? { scanner: latest.scanner } : {}),
  };
}
