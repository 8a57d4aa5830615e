import { InvalidInputError, PlatformNotFoundError, truncate } from "./errors.js";
import type { PlatformSpec } from "./manifest.js";

/** A platform to select out of an index: `linux/arm64/v8` is os, architecture and variant. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  features?: string[];
}

const PART = /^[A-Za-z0-9_.-]{1,64}$/;
const OS_VERSION = /^[A-Za-z0-9_.-]{1,128}$/;
const MAX_PLATFORM_INPUT = 256;

function invalid(input: string, reason: string): InvalidInputError {
  return new InvalidInputError(`invalid platform ${JSON.stringify(truncate(input, 64))}: ${reason}`);
}

/** `os/arch[/variant][:os.version]`, e.g. `linux/arm64/v8`, `windows/amd64:10.0.17763.1234`. */
export function parsePlatform(input: string): Platform {
  if (typeof input !== "string") throw invalid(String(input), "expected os/arch[/variant]");
  if (input.length === 0 || input.length > MAX_PLATFORM_INPUT)
    throw invalid(input, "expected os/arch[/variant]");
  const colon = input.indexOf(":");
  const main = colon >= 0 ? input.slice(0, colon) : input;
  const osVersion = colon >= 0 ? input.slice(colon + 1) : undefined;
  const parts = main.split("/");
  if (parts.length < 2 || parts.length > 3 || !parts.every((p) => PART.test(p))) {
    throw invalid(input, "expected os/arch[/variant]");
  }
  if (osVersion !== undefined && !OS_VERSION.test(osVersion)) throw invalid(input, "bad os.version");
  const [os, architecture, variant] = parts as [string, string, string | undefined];
  return {
    os,
    architecture,
    ...(variant !== undefined ? { variant } : {}),
    ...(osVersion !== undefined ? { osVersion } : {}),
  };
}

/** `os/arch[/variant][:os.version]`, the form {@link parsePlatform} reads. */
export function formatPlatform(p: Platform): string {
  return `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ""}${p.osVersion ? `:${p.osVersion}` : ""}`;
}

/** containerd's NormalizeArch, except that arm64's default variant is spelled out as `v8`. */
function normalizeArch(architecture: string, variant: string | undefined): [string, string | undefined] {
  const arch = architecture.toLowerCase();
  const v = variant?.toLowerCase() || undefined;
  switch (arch) {
    case "i386":
      return ["386", undefined];
    case "x86_64":
    case "x86-64":
    case "amd64":
      return ["amd64", v === "v1" ? undefined : v];
    case "aarch64":
    case "arm64":
      if (v === undefined || v === "8" || v === "v8" || v === "v8.0") return ["arm64", "v8"];
      if (v === "9" || v === "9.0" || v === "v9.0") return ["arm64", "v9"];
      return ["arm64", v];
    case "armhf":
      return ["arm", "v7"];
    case "armel":
      return ["arm", "v6"];
    case "arm":
      if (v === undefined || v === "7") return ["arm", "v7"];
      if (v === "5" || v === "6" || v === "8") return ["arm", `v${v}`];
      return ["arm", v];
    default:
      return [arch, v];
  }
}

/** containerd's normalisation, so `linux/aarch64` matches `linux/arm64/v8`. */
export function normalizePlatform(p: Platform): Platform {
  const lowerOs = p.os.toLowerCase();
  const os = lowerOs === "macos" ? "darwin" : lowerOs;
  const [architecture, variant] = normalizeArch(p.architecture, p.variant);
  return {
    os,
    architecture,
    ...(variant ? { variant } : {}),
    ...(p.osVersion ? { osVersion: p.osVersion } : {}),
    ...(p.osFeatures ? { osFeatures: p.osFeatures } : {}),
    ...(p.features ? { features: p.features } : {}),
  };
}

/** `10.0.17763` asks for any `10.0.17763.x`, but not for `10.0.177630`. */
function osVersionMatches(wanted: string, candidate: string | undefined): boolean {
  if (candidate === undefined) return false;
  return candidate === wanted || candidate.startsWith(wanted.endsWith(".") ? wanted : `${wanted}.`);
}

/** Does `candidate` satisfy what was asked? Unasked details (variant, os.version) do not matter. */
export function platformMatches(wanted: Platform, candidate: Platform): boolean {
  const w = normalizePlatform(wanted);
  const c = normalizePlatform(candidate);
  if (w.os !== c.os || w.architecture !== c.architecture) return false;
  if (wanted.variant !== undefined && w.variant !== c.variant) return false;
  if (w.osVersion !== undefined && !osVersionMatches(w.osVersion, c.osVersion)) return false;
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
 * Picks the index entry for a platform. Among matches, the first whose
 * normalised variant equals the wanted one (or its default: `linux/arm`
 * means v7) wins over one that only matches because no variant was asked.
 * Throws PlatformNotFoundError naming what the index offers.
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

const NODE_ARCH: Record<string, string> = {
  x64: "amd64",
  ia32: "386",
  arm64: "arm64",
  arm: "arm",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
  loong64: "loong64",
  mips: "mips",
  mipsel: "mipsle",
};

/** Node's `process.platform`/`process.arch` (and, on 32-bit ARM, its `arm_version`) in OCI terms. */
export function platformFromNode(platform: string, arch: string, armVersion?: string): Platform {
  const os = platform === "win32" ? "windows" : platform;
  const architecture = NODE_ARCH[arch] ?? arch;
  const variant = architecture === "arm" && armVersion ? `v${armVersion}` : undefined;
  return normalizePlatform({ os, architecture, ...(variant ? { variant } : {}) });
}

/** The platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const armVersion = (process.config.variables as Record<string, unknown>).arm_version;
  return platformFromNode(
    process.platform,
    process.arch,
    typeof armVersion === "string" || typeof armVersion === "number" ? String(armVersion) : undefined,
  );
}
