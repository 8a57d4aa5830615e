import { describe, expect, it } from "vitest";
import { ConfigurationError, InvalidInputError } from "../core/errors.js";
import { EndpointPolicy, isLoopbackHost, splitHost } from "./scheme.js";

describe("isLoopbackHost", () => {
  it.each([
    ["localhost", true],
    ["LOCALHOST", true],
    ["localhost:5000", true],
    ["127.0.0.1", true],
    ["127.0.0.1:5000", true],
    ["127.10.0.3:80", true],
    ["127.255.255.254", true],
    ["127.1", true],
    ["::1", true],
    ["[::1]", true],
    ["[::1]:5000", true],
    ["[0:0:0:0:0:0:0:1]:5000", true],
    ["[::ffff:127.0.0.1]:5000", true],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["126.255.255.255", false],
    ["registry.example.com", false],
    ["localhost.example.com", false],
    ["127.0.0.1.example.com", false],
    ["evil.localhost", false],
    ["[::2]", false],
    ["", false],
    ["localhost/path", false],
    ["user@localhost", false],
  ])("%s → %s", (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });
});

describe("splitHost", () => {
  it("canonicalises the hostname and keeps the port", () => {
    expect(splitHost("Registry.Example.com:5000")).toEqual({
      hostname: "registry.example.com",
      port: "5000",
    });
    expect(splitHost("[0:0::1]:443")).toEqual({ hostname: "[::1]", port: "443" });
    expect(splitHost("ghcr.io")).toEqual({ hostname: "ghcr.io", port: undefined });
    expect(splitHost("host:99999")).toBeUndefined();
    expect(splitHost("a b")).toBeUndefined();
  });
});

describe("EndpointPolicy", () => {
  const policy = new EndpointPolicy({
    insecureHosts: ["reg.internal:5000", "plain.example", "http://copied.example:8080/", "[fd00::1]"],
  });

  it.each([
    ["ghcr.io", "https://ghcr.io/"],
    ["us-docker.pkg.dev", "https://us-docker.pkg.dev/"],
    ["registry.example.com:5000", "https://registry.example.com:5000/"],
    ["localhost", "http://localhost/"],
    ["localhost:5000", "http://localhost:5000/"],
    ["127.0.0.1:5000", "http://127.0.0.1:5000/"],
    ["[::1]:5000", "http://[::1]:5000/"],
    ["reg.internal:5000", "http://reg.internal:5000/"],
    ["REG.internal:5000", "http://reg.internal:5000/"],
    ["reg.internal:6000", "https://reg.internal:6000/"],
    ["reg.internal", "https://reg.internal/"],
    ["plain.example", "http://plain.example/"],
    ["plain.example:8080", "http://plain.example:8080/"],
    ["copied.example:8080", "http://copied.example:8080/"],
    ["[fd00::1]:5000", "http://[fd00::1]:5000/"],
    ["other.example", "https://other.example/"],
  ])("%s → %s", (host, base) => {
    expect(policy.baseUrl(host).href).toBe(base);
    expect(policy.allowsPlainHttp(host)).toBe(base.startsWith("http:"));
  });

  it("defaults to HTTPS for everything but loopback", () => {
    const strict = new EndpointPolicy();
    expect(strict.allowsPlainHttp("docker.io")).toBe(false);
    expect(strict.allowsPlainHttp("127.0.0.1:5000")).toBe(true);
    expect(strict.allowsPlainHttp("not a host")).toBe(false);
  });

  it("refuses text that is not a host", () => {
    for (const bad of ["evil.com/path?", "user:pw@host", "", "host name", "a\nb"]) {
      expect(() => policy.baseUrl(bad)).toThrow(InvalidInputError);
    }
    expect(() => policy.baseUrl("evil.com/path?")).toThrow('invalid registry host "evil.com/path?"');
  });

  it("rejects an invalid insecure entry when it is built", () => {
    expect(() => new EndpointPolicy({ insecureHosts: ["bad host"] })).toThrow(ConfigurationError);
  });

  it("probes a loopback host once and uses HTTPS when it answers TLS", async () => {
    const probed: string[] = [];
    const probe = async (url: URL) => {
      probed.push(url.href);
      return url.port === "5443";
    };
    const strict = new EndpointPolicy();
    expect((await strict.resolveBaseUrl("127.0.0.1:5443", probe)).href).toBe("https://127.0.0.1:5443/");
    expect((await strict.resolveBaseUrl("127.0.0.1:5443", probe)).href).toBe("https://127.0.0.1:5443/");
    expect((await strict.resolveBaseUrl("localhost:5000", probe)).href).toBe("http://localhost:5000/");
    expect((await strict.resolveBaseUrl("localhost:80", probe)).href).toBe("http://localhost/");
    expect((await strict.resolveBaseUrl("ghcr.io", probe)).href).toBe("https://ghcr.io/");
    expect(probed).toEqual(["https://127.0.0.1:5443/", "https://localhost:5000/", "https://localhost:80/"]);
  });

  it("does not probe hosts the user named insecure, and a failing probe means plain HTTP", async () => {
    let probes = 0;
    const named = new EndpointPolicy({ insecureHosts: ["localhost:5000"] });
    expect((await named.resolveBaseUrl("localhost:5000", async () => ++probes > 0)).href).toBe(
      "http://localhost:5000/",
    );
    expect(probes).toBe(0);
    const failing = new EndpointPolicy();
    const url = await failing.resolveBaseUrl("127.0.0.1:7000", async () => {
      throw new Error("probe failed");
    });
    expect(url.href).toBe("http://127.0.0.1:7000/");
  });
});
