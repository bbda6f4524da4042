import * as fs from "node:fs";
import * as path from "node:path";
import { Writable } from "node:stream";
import { describe, expect, test } from "vitest";
import { createSink, FORMATS } from "../../src/report/sink";
import { encodeSegment, fileUri, pathStyleOf, artifactLocation, uriBase, byteString } from "../../src/report/uri";
import type { ScanResult } from "../../src/types";
import { ALL_RESULTS, R, runInfo, summarize, tempDir } from "./report-fixtures";

/** A destination that takes one chunk per tick and remembers everything it got. */
class SlowSink extends Writable {
  chunks: Buffer[] = [];
  constructor(private readonly failWith?: Error) {
    super({ highWaterMark: 64 });
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    setTimeout(() => {
      if (this.failWith) return cb(this.failWith);
      this.chunks.push(chunk);
      cb();
    }, 1);
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

const many: ScanResult[] = Array.from({ length: 200 }, (_, i) => ({ ...R.crash, path: `samples/f${i}.bin` }));

describe("output stream handling", () => {
  test.each(FORMATS)("%s: ready() reports backpressure and end() resolves with everything written", async (format) => {
    const dest = new SlowSink();
    const sink = createSink(format, dest, { all: true, color: false, close: false });
    const run = runInfo();
    sink.begin(run);
    let waited = 0;
    for (const r of many) {
      sink.result(r);
      const ready = sink.ready();
      let settled = false;
      void ready.then(() => (settled = true));
      await Promise.resolve();
      if (!settled) waited += 1;
      await ready;
    }
    await sink.end(summarize(many), run);
    // Streaming formats push back while results arrive; sarif only writes at the end.
    if (format !== "sarif") expect(waited).toBeGreaterThan(0);
    expect(dest.writableLength).toBe(0);
    expect(dest.writableEnded).toBe(false); // not ours to close (like stdout)
    const text = dest.text();
    expect(text).toContain("samples/f199.bin");
    expect(text.endsWith("\n")).toBe(true);
  });

  test("a file stream opened for the report is closed and complete when end() resolves", async () => {
    const file = path.join(tempDir(), "out.ndjson");
    const out = fs.createWriteStream(file);
    const sink = createSink("ndjson", out, { all: false, color: false });
    const run = runInfo();
    sink.begin(run);
    for (const r of many) sink.result(r);
    await sink.end(summarize(many), run);
    expect(out.writableFinished).toBe(true);
    expect(fs.readFileSync(file, "utf8").trim().split("\n")).toHaveLength(many.length + 2);
  });

  test("process.stdout is never closed by default", async () => {
    const sink = createSink("text", process.stdout, { all: false, color: false });
    const run = runInfo();
    sink.begin(run);
    await sink.end(summarize([]), run);
    expect(process.stdout.writableEnded).toBe(false);
  });

  test("a failing destination (EPIPE) rejects end() instead of crashing", async () => {
    const epipe = Object.assign(new Error("write EPIPE"), { code: "EPIPE" });
    const sink = createSink("ndjson", new SlowSink(epipe), { all: true, color: false, close: false });
    const run = runInfo();
    sink.begin(run);
    for (const r of ALL_RESULTS) sink.result(r);
    await expect(sink.end(summarize(ALL_RESULTS), run)).rejects.toThrow("EPIPE");
  });
});

describe("URIs", () => {
  test.each([
    ["plain.exe", "plain.exe"],
    ["a b", "a%20b"],
    ["100%", "100%25"],
    ["#3?x", "%233%3Fx"],
    ["c:d", "c%3Ad"],
    ["ü", "%C3%BC"],
    ["-._~", "-._~"],
  ])("encodeSegment(%j) = %s", (name, encoded) => {
    expect(encodeSegment(byteString(name))).toBe(encoded);
  });

  test("pathBytes are encoded byte for byte", () => {
    const bytes = Buffer.from([0x61, 0xe9, 0xff, 0x2f, 0x62]).toString("base64");
    expect(fileUri("posix", "/" + byteString("ignored", bytes))).toBe("file:///a%E9%FF/b");
  });

  test.each([
    ["/work/scan", "posix"],
    ["C:\\Users\\ci", "win32"],
    ["c:/x", "win32"],
    ["\\\\server\\share", "win32"],
  ] as const)("pathStyleOf(%j) = %s", (cwd, style) => {
    expect(pathStyleOf(cwd)).toBe(style);
  });

  test.each([
    ["posix", "/a b/c", "file:///a%20b/c"],
    ["win32", "C:\\a b\\c", "file:///C:/a%20b/c"],
    ["win32", "\\\\server\\share\\x y", "file://server/share/x%20y"],
  ] as const)("fileUri(%s, %j) = %s", (style, p, uri) => {
    expect(fileUri(style, p)).toBe(uri);
  });

  test.each([
    ["/root/a/b.exe", { uri: "a/b.exe", uriBaseId: "%SRCROOT%" }],
    ["/root", { uri: "file:///root" }],
    ["/rootless/x", { uri: "file:///rootless/x" }],
    ["/elsewhere/x", { uri: "file:///elsewhere/x" }],
    ["/root/..data/x", { uri: "..data/x", uriBaseId: "%SRCROOT%" }],
  ])("artifactLocation(%j) under /root", (abs, expected) => {
    expect(artifactLocation(abs, uriBase("posix", "/root"), "%SRCROOT%")).toEqual(expected);
  });

  test("base URIs end with a slash", () => {
    expect(uriBase("posix", "/").uri).toBe("file:///");
    expect(uriBase("posix", "/x").uri).toBe("file:///x/");
    expect(uriBase("win32", "C:\\").uri).toBe("file:///C:/");
  });
});
