import { InvalidInputError, PlatformNotFoundError } from "./errors.js";
import type { PlatformSpec } from "./manifest.js";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  features?: string[];
}

const PART = /^[A-Za-z0-9_.-]{1,64}$/;

/** `os/arch[/variant][:os.version]`, e.g. `linux/arm64/v8`, `windows/amd64:10.0.17763.1234`. */
export function parsePlatform(input: string): Platform {
  if (typeof input !== "string" || input.length === 0 || input.length > 256) {
    throw new InvalidInputError(
      `invalid platform ${JSON.stringify(String(input).slice(0, 64))}: expected os/arch[/variant]`,
    );
  }
  const colon = input.indexOf(":");
  const main = colon >= 0 ? input.slice(0, colon) : input;
  const osVersion = colon >= 0 ? input.slice(colon + 1) : undefined;
  const parts = main.split("/");
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PART.test(p))) {
    throw new InvalidInputError(
      `invalid platform ${JSON.stringify(input.slice(0, 64))}: expected os/arch[/variant]`,
    );
  }
  if (osVersion !== undefined && !/^[A-Za-z0-9_.-]{1,128}$/.test(osVersion)) {
    throw new InvalidInputError(`invalid platform ${JSON.stringify(input.slice(0, 64))}: bad os.version`);
  }
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return { os, architecture, ...(variant ? { variant } : {}), ...(osVersion ? { osVersion } : {}) };
}

export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}${p.osVersion ? `:${p.osVersion}` : ""}`;
}

const ARCH_ALIASES: Record<string, string> = {
  aarch64: "arm64",
  x86_64: "amd64",
  "x86-64": "amd64",
  i386: "386",
  armhf: "arm",
  armel: "arm",
};

/** containerd's normalisation, so `linux/aarch64` matches `linux/arm64/v8`. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  if (p.architecture.toLowerCase() === "armhf") variant ??= "v7";
  if (p.architecture.toLowerCase() === "armel") variant ??= "v6";
  architecture = ARCH_ALIASES[architecture] ?? architecture;
  if (architecture === "arm64" && (variant === undefined || variant === "8")) variant = "v8";
  if (architecture === "arm" && variant === undefined) variant = "v7";
  if (architecture === "arm" && /^\d$/.test(variant ?? "")) variant = `v${variant}`;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  return {
    os,
    architecture,
    ...(variant ? { variant } : {}),
    ...(p.osVersion ? { osVersion: p.osVersion } : {}),
    ...(p.osFeatures ? { osFeatures: p.osFeatures } : {}),
    ...(p.features ? { features: p.features } : {}),
  };
}

/** Does `candidate` satisfy what was asked? Unasked details (variant, os.version) do not matter. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  if (wanted.variant !== undefined && w.variant !== c.variant) return false;
  if (w.osVersion !== undefined && !(c.osVersion ?? "").startsWith(w.osVersion)) return false;
  for (const feature of w.osFeatures ?? []) if (!(c.osFeatures ?? []).includes(feature)) return false;
  for (const feature of w.features ?? []) if (!(c.features ?? []).includes(feature)) return false;
  return true;
}

export function platformFromDescriptor(descriptor: {
  platform?: PlatformSpec | undefined;
}): Platform | undefined {
  const p = descriptor.platform;
  if (!p) return undefined;
  return {
    os: p.os,
    architecture: p.architecture,
    ...(p.variant ? { variant: p.variant } : {}),
    ...(p["os.version"] ? { osVersion: p["os.version"] } : {}),
    ...(p["os.features"] ? { osFeatures: p["os.features"] } : {}),
    ...(p.features ? { features: p.features } : {}),
  };
}

/** Attestation manifests in buildx indexes carry `unknown/unknown`; they are not platforms. */
function isRealPlatform(p: Platform | undefined): p is Platform {
  return p !== undefined && p.os !== "unknown" && p.architecture !== "unknown";
}

/**
 * Picks the index entry for a platform: among matches, one whose normalised
 * variant equals the wanted one (or its default) wins. Throws
 * PlatformNotFoundError naming what the index offers.
 */
export function selectPlatform<T extends { platform?: PlatformSpec | undefined }>(
  descriptors: T[],
  wanted: Platform,
): T {
  const normalWanted = normalizePlatform(wanted);
  let best: T | undefined;
  for (const descriptor of descriptors) {
    const platform = platformFromDescriptor(descriptor);
    if (!isRealPlatform(platform) || !platformMatches(wanted, platform)) continue;
    if (normalizePlatform(platform).variant === normalWanted.variant) return descriptor;
    best ??= descriptor;
  }
  if (best) return best;
  const available = descriptors.map(platformFromDescriptor).filter(isRealPlatform).map(formatPlatform);
  throw new PlatformNotFoundError(formatPlatform(wanted), [...new Set(available)]);
}

/** The platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const os = process.platform === "win32" ? "windows" : process.platform;
  const arch: Record<string, string> = {
    x64: "amd64",
    ia32: "386",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return normalizePlatform({ os, architecture: arch[process.arch] ?? process.arch });
}
