// End to end (issue 11): the built binary opens carriers like archives. Mail, PDF, RTF, a PE with
// an archive after it and a damaged message are made here; the member chain names where the file
// was (mail.eml!invoice.zip!a.exe); ClamAV's 44 test files (Debian's clamav-testfiles, installed
// by make test-tools) are scanned with clam.exe's SHA-256 as the only signature.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as A from "../support/archives";
import * as F from "../unit/containers-carriers-fixtures";
import { EICAR, EICAR_SHA256, json, ring3, tempDir, write, type Json } from "./helpers";

let dir: string;
beforeAll(() => {
  dir = tempDir("ring3-carriers-");
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const eicar = new TextEncoder().encode(EICAR);
const member = (doc: Json, chain: string[]): Json => doc.results.find((r: Json) => JSON.stringify(r.members) === JSON.stringify(chain));
const top = (doc: Json, name: string): Json => doc.results.find((r: Json) => r.members === undefined && r.path.endsWith(name));

function scan(folder: string, extra: string[] = []): { code: number | null; doc: Json } {
  const run = ring3(["scan", "--format", "json", "--no-bundled", "--hashes", path.join(dir, "eicar.txt"), ...extra, folder]);
  return { code: run.code, doc: json(run) };
}

describe("carriers in the built binary", () => {
  beforeAll(() => {
    write(dir, "eicar.txt", `${EICAR_SHA256};EICAR\n`);
  });

  it("mail.eml!invoice.zip!a.exe, report.pdf!a.exe, letter.rtf!a.exe, setup.exe!a.exe: each detected at its chain", () => {
    const d = path.join(dir, "set");
    const zip = A.zip([{ name: "a.exe", data: eicar, method: "deflate" }]);
    write(d, "mail.eml", Buffer.from(F.mime([{ name: "invoice.zip", data: zip }])));
    write(d, "report.pdf", Buffer.from(F.pdfWithAttachment("a.exe", eicar, "flate")));
    write(d, "letter.rtf", Buffer.from(F.rtf([F.ole1("Package", F.packageBlock("a.exe", eicar))])));
    write(d, "setup.exe", Buffer.from(F.pe(undefined, zip)));
    write(d, "plain.txt", "From here on, %PDF-1.4 and <html> are only words.\n");
    const { code, doc } = scan(d);
    expect(code).toBe(1);
    expect(member(doc, ["invoice.zip", "a.exe"]).verdict).toBe("detected");
    expect(top(doc, "mail.eml").container.format).toEqual(["mail"]);
    for (const f of ["report.pdf", "letter.rtf", "setup.exe"]) {
      const t = top(doc, f);
      expect(t.verdict, f).toBe("detected");
      expect(doc.results.some((r: Json) => r.path === t.path && JSON.stringify(r.members) === '["a.exe"]' && r.verdict === "detected"), f).toBe(true);
    }
    expect(doc.summary.files).toBe(5);
    expect(doc.summary.detected).toBe(4);
  });

  it("a truncated message and a PDF whose stream never ends: partial with archive-corrupt, never clean", () => {
    const d = path.join(dir, "damaged");
    const msg = F.mime([{ name: "a.bin", data: new Uint8Array(5000).fill(0x41) }]);
    write(d, "cut.eml", msg.slice(0, msg.length >> 1));
    const p = F.pdfWithAttachment("x.bin", new Uint8Array(4000).fill(0x42));
    write(d, "cut.pdf", Buffer.from(p.subarray(0, p.length - 200)));
    // Hostile neighbours: a PDF of 150,000 empty objects, a message 5,000 multiparts deep, and a
    // UPX header over garbage; the clean file beside them is still scanned and reported.
    write(d, "objects.pdf", `%PDF-1.7\n${"1 0 obj\n<< /EF << /F ".repeat(150_000)}\n`);
    let deep = "";
    for (let i = 0; i < 5000; i++) deep += `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`;
    write(d, "deep.eml", `From: a@example.com\nSubject: deep\n${deep}`);
    const upx = Buffer.from(F.upxPe(eicar, 8));
    upx.fill(0x5a, 0x400 + 8, 0x400 + 40);
    write(d, "bad-upx.exe", upx);
    write(d, "clean.txt", "nothing to see\n");
    const t0 = Date.now();
    const { code, doc } = scan(d, ["--all"]);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(code).toBe(2);
    for (const f of ["cut.eml", "cut.pdf", "deep.eml", "bad-upx.exe"]) {
      expect(top(doc, f).verdict, f).toBe("partial");
      expect(top(doc, f).reason.code, f).toBe("archive-corrupt");
    }
    expect(top(doc, "clean.txt").verdict).toBe("clean");
    expect(doc.summary.files).toBe(6);
  });

  it("a Flate bomb in a PDF: partial on the ratio budget, in bounded time", () => {
    const d = path.join(dir, "bomb");
    write(d, "bomb.pdf", Buffer.from(F.pdf(["<< /Type /Catalog >>", { dict: "/Filter /FlateDecode", stream: zlib.deflateSync(new Uint8Array(256 << 20)) }])));
    const t0 = Date.now();
    const { doc } = scan(d);
    expect(Date.now() - t0).toBeLessThan(60_000);
    expect(top(doc, "bomb.pdf").verdict).toBe("partial");
    expect(top(doc, "bomb.pdf").reason.code).toBe("archive-ratio");
  });
});

describe("ClamAV's test files (clamav-testfiles)", () => {
  const DIR = "/usr/share/clamav-testfiles";
  it("clam.exe reached, by its SHA-256, in at least 35 of the 44 carriers, each at its chain", () => {
    expect(fs.existsSync(DIR), "make test-tools installs clamav-testfiles").toBe(true);
    const sha = require("node:crypto").createHash("sha256").update(fs.readFileSync(path.join(DIR, "clam.exe"))).digest("hex");
    write(dir, "clam.txt", `${sha};ClamAV-Test-File\n`);
    const run = ring3(["scan", "--format", "json", "--no-bundled", "--hashes", path.join(dir, "clam.txt"), DIR]);
    const doc = json(run);
    const found = new Set<string>();
    for (const r of doc.results) if (r.hashes?.sha256 === sha) found.add([path.basename(r.path), ...(r.members ?? [])].join("!"));
    const want = [
      "clam-nsis.exe!clam.exe",
      "clam.ea05.exe!clam.exe",
      "clam.ea06.exe!clam.exe",
      "clam.exe.binhex!clam.exe",
      "clam.exe.html!data-1.octet-stream",
      "clam.exe.mbox.base64!clam.exe",
      "clam.exe.mbox.uu!clam.exe",
      "clam.exe.rtf!Clam.exe",
      "clam.exe.szdd!clam.exe",
      "clam.mail!clam.exe",
      "clam.ole.doc!ObjectPool/_1279313719/[1]Ole10Native!Clam.exe",
      "clam.pdf!clam.exe",
      "clam.ppt!PowerPoint Document.object-1![1]Ole10Native!clam.exe",
      "clam.sis!clam.exe",
      "clam.tnef!clam.exe",
      "clam_IScab_ext.exe!clam.exe",
      "clam_IScab_int.exe!clam.exe",
      "clam_ISmsi_ext.exe!clam.exe409.bmp",
      "clam_ISmsi_int.exe!clam.msi!Data1.cab!clam.exe",
    ];
    for (const w of want) expect([...found], w).toContain(w);
    const files = new Set([...found].map((f) => f.split("!")[0]));
    expect(files.size).toBeGreaterThanOrEqual(35);
  });
});
