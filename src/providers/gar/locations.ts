import { UsageError } from "../../core/errors.js";

/**
 * Artifact Registry locations (regions and multi-regions), as Google lists
 * them. Data, not rules: a new region is one more line here.
 */
export const GAR_LOCATIONS: readonly string[] = [
  // multi-regions
  "us",
  "europe",
  "asia",
  // Americas
  "northamerica-northeast1",
  "northamerica-northeast2",
  "northamerica-south1",
  "southamerica-east1",
  "southamerica-west1",
  "us-central1",
  "us-east1",
  "us-east4",
  "us-east5",
  "us-south1",
  "us-west1",
  "us-west2",
  "us-west3",
  "us-west4",
  // Europe
  "europe-central2",
  "europe-north1",
  "europe-north2",
  "europe-southwest1",
  "europe-west1",
  "europe-west2",
  "europe-west3",
  "europe-west4",
  "europe-west6",
  "europe-west8",
  "europe-west9",
  "europe-west10",
  "europe-west12",
  // Middle East and Africa
  "africa-south1",
  "me-central1",
  "me-central2",
  "me-west1",
  // Asia Pacific
  "asia-east1",
  "asia-east2",
  "asia-northeast1",
  "asia-northeast2",
  "asia-northeast3",
  "asia-south1",
  "asia-south2",
  "asia-southeast1",
  "asia-southeast2",
  "australia-southeast1",
  "australia-southeast2",
];

const MULTI_REGIONS = new Set(["us", "europe", "asia"]);

/** Whether a location is a multi-region (`us`, `europe`, `asia`). */
export function isMultiRegion(location: string): boolean {
  return MULTI_REGIONS.has(location);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

/** The `count` known locations closest to `location` by edit distance. */
export function nearestLocations(location: string, count = 3): string[] {
  return [...GAR_LOCATIONS]
    .map((name) => ({ name, d: distance(location, name) }))
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, count)
    .map((x) => x.name);
}

/** The location when Artifact Registry has it; otherwise a usage error naming the nearest ones. */
export function checkLocation(location: string, known: readonly string[] = GAR_LOCATIONS): string {
  const lower = location.toLowerCase();
  if (known.includes(lower)) return lower;
  throw new UsageError(
    `unknown Artifact Registry location ${JSON.stringify(location)}; nearest valid: ${nearestLocations(lower).join(", ")}`,
    { provider: "gar" },
  );
}
