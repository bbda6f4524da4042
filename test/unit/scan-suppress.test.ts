// Suppression re-derives the verdict with the one verdict rule: a file whose own findings are all
// suppressed is what the scan otherwise found it (clean, partial, error, or still detected through
// a member below it).
import { describe, expect, it } from "vitest";
import { makeSuppressor } from "../../src/cli/suppress";
import type { Finding, ScanResult } from "../../src/types";

const finding = (rule: string, tags: string[] = []): Finding => ({ engine: "yara", rule, namespace: "default", severity: "high", description: "", references: [], tags });
const base: ScanResult = { verdict: "detected", path: "f", root: ".", size: 1, hashes: {}, findings: [finding("noisy")] };
const suppress = makeSuppressor({ allow: [], excludeRules: ["noisy"], excludeTags: ["fp"] })!;

describe("suppression and the verdict", () => {
  const table: [string, Partial<ScanResult>, ScanResult["verdict"], number][] = [
    ["only finding suppressed", {}, "clean", 0],
    ["one of two left", { findings: [finding("noisy"), finding("real")] }, "detected", 1],
    ["by tag", { findings: [finding("other", ["fp"])] }, "clean", 0],
    ["partly scanned", { reason: { code: "archive-encrypted", message: "" } }, "partial", 0],
    ["engine failed", { reason: { code: "engine-error", message: "" } }, "error", 0],
    ["a member below still detected", { container: { format: ["zip"], members: 3, detected: 1, incomplete: 0 } }, "detected", 0],
    ["a member: its own findings only", { members: ["a.zip"], container: { format: ["zip"], members: 1, detected: 1, incomplete: 0 } }, "clean", 0],
  ];
  it.each(table)("%s", (_name, patch, verdict, kept) => {
    const out = suppress({ ...base, ...patch });
    expect(out.verdict).toBe(verdict);
    expect(out.findings).toHaveLength(kept);
    expect(out.suppressed!.length).toBeGreaterThan(0);
  });

  it("leaves a result without suppressed findings as it was", () => {
    const r: ScanResult = { ...base, findings: [finding("real")] };
    expect(suppress(r)).toBe(r);
  });
});
