import { describe, expect, it } from "vitest";
import { digestOf } from "../core/digest.js";
import { parseManifest } from "../core/manifest.js";
import { MediaType } from "../core/mediaTypes.js";
import { PLACEHOLDER_ANNOTATION, placeholderManifest } from "./untag.js";

describe("placeholderManifest", () => {
  it("is a valid image manifest with the empty config, no layers, and a digest of its own each time", () => {
    const at = new Date("2026-11-29T12:00:00Z");
    const first = placeholderManifest("team/app", "old", at);
    const second = placeholderManifest("team/app", "old", at);
    expect(digestOf(first)).not.toBe(digestOf(second));
    const parsed = parseManifest(first, MediaType.OciManifest);
    expect(parsed.kind).toBe("image");
    if (parsed.kind !== "image") return;
    expect(parsed.manifest.config).toEqual({
      mediaType: MediaType.OciEmpty,
      digest: "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
      size: 2,
    });
    expect(parsed.manifest.layers).toEqual([]);
    expect(parsed.manifest.annotations?.[PLACEHOLDER_ANNOTATION]).toMatch(
      /^team\/app:old 2026-11-29T12:00:00\.000Z [0-9a-f]{16}$/,
    );
  });
});
