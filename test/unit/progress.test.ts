// The progress line: counts before the walk ends (no bar, no ETA against a growing total), a bar
// and an ETA after; each redraw erases the rest of the old line; the line fits the terminal.
import { describe, expect, it } from "vitest";
import { duration, Progress } from "../../src/cli/progress";
import type { ScanResult } from "../../src/types";

function result(size: number, verdict: ScanResult["verdict"] = "clean"): ScanResult {
  return { verdict, path: "f", root: ".", size, hashes: {}, findings: [] };
}

function fake(columns?: number): { out: { write(s: string): void; columns?: number }; written: string[]; clock: { t: number } } {
  const written: string[] = [];
  return { out: { write: (s: string) => void written.push(s), columns }, written, clock: { t: 0 } };
}

describe("progress line", () => {
  it("shows no bar and no ETA while the walk goes on, then both once it is complete", () => {
    const { out, clock } = fake();
    const p = new Progress(out, () => clock.t, 0, 0);
    for (let i = 0; i < 10; i++) p.found();
    for (let i = 0; i < 4; i++) p.result(result(1_000_000));
    p.result(result(1_000_000, "detected"));
    clock.t = 5000;
    const walking = p.line();
    expect(walking).toContain("5 files scanned, 10 found so far (still walking)");
    expect(walking).toContain("5.0 MB");
    expect(walking).toContain("1.0 MB/s, 1 files/s");
    expect(walking).toContain("1 detected");
    expect(walking).not.toContain("ETA");
    expect(walking).not.toContain("[");
    p.walkDone();
    const known = p.line();
    expect(known).toContain("[##########----------] 5/10 files");
    // 5 files in 5 s, 5 to go.
    expect(known).toContain("ETA 5s");
    for (let i = 0; i < 5; i++) p.result(result(10));
    expect(p.line()).not.toContain("ETA");
  });

  it("erases the rest of the line at each redraw, so a shorter line leaves nothing behind", () => {
    const { out, written, clock } = fake();
    const p = new Progress(out, () => clock.t, 0, 0);
    for (let i = 0; i < 1000; i++) p.found();
    p.draw();
    p.walkDone();
    p.result(result(1));
    p.draw();
    expect(written).toHaveLength(2);
    for (const w of written) expect(w).toMatch(/^\r.*\x1b\[K$/);
    p.stop();
    expect(written[2]).toBe("\r\x1b[K");
  });

  it("fits the terminal's width and draws nothing new when nothing changed", () => {
    const { out, written, clock } = fake(40);
    const p = new Progress(out, () => clock.t, 0, 0);
    p.found();
    expect(p.line().length).toBe(39);
    p.draw();
    p.draw();
    expect(written).toHaveLength(1);
  });

  it("writes durations as a person reads them", () => {
    expect(duration(0)).toBe("0s");
    expect(duration(75)).toBe("1m15s");
    expect(duration(3700)).toBe("1h01m");
  });
});
