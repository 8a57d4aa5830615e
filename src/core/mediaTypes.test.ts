import { describe, expect, it } from "vitest";
import {
  baseMediaType,
  INDEX_MEDIA_TYPES,
  isImageManifestMediaType,
  isIndexMediaType,
  isManifestMediaType,
  MANIFEST_ACCEPT,
  MediaType,
} from "./mediaTypes.js";

describe("media types", () => {
  it("uses the registered names", () => {
    expect(MediaType.OciManifest).toBe("application/vnd.oci.image.manifest.v1+json");
    expect(MediaType.OciIndex).toBe("application/vnd.oci.image.index.v1+json");
    expect(MediaType.DockerManifest).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(MediaType.DockerManifestList).toBe("application/vnd.docker.distribution.manifest.list.v2+json");
    expect(MediaType.OciEmpty).toBe("application/vnd.oci.empty.v1+json");
  });

  it("accepts every manifest kind regkit parses", () => {
    expect(MANIFEST_ACCEPT.split(", ").sort()).toEqual(
      [
        MediaType.OciManifest,
        MediaType.OciIndex,
        MediaType.DockerManifest,
        MediaType.DockerManifestList,
      ].sort(),
    );
    expect(INDEX_MEDIA_TYPES).toEqual([MediaType.OciIndex, MediaType.DockerManifestList]);
  });

  it.each([
    [MediaType.OciIndex, true, false],
    [MediaType.DockerManifestList, true, false],
    [MediaType.OciManifest, false, true],
    [MediaType.DockerManifest, false, true],
    [MediaType.OciConfig, false, false],
    ["application/json", false, false],
    [undefined, false, false],
  ])("%s: index %s, image %s", (mediaType, index, image) => {
    expect(isIndexMediaType(mediaType)).toBe(index);
    expect(isImageManifestMediaType(mediaType)).toBe(image);
    expect(isManifestMediaType(mediaType)).toBe(index || image);
  });

  it.each([
    ["application/vnd.oci.image.manifest.v1+json; charset=utf-8", MediaType.OciManifest],
    ["  Application/VND.OCI.Image.Index.v1+JSON ;q=1", MediaType.OciIndex],
    ["text/plain", "text/plain"],
    ["", undefined],
    [";charset=utf-8", undefined],
    [undefined, undefined],
  ])("baseMediaType(%j) = %j", (contentType, expected) => {
    expect(baseMediaType(contentType)).toBe(expected);
  });
});
