// Carriers as containers (issue 11): mail, BinHex, TNEF, SZDD/KWAJ, PDF, RTF, HTML, OLE packages,
// VBA and PowerPoint objects in compound files, executables with archives after them, InstallShield,
// .sis and UPX. Each format: identified by content (and a text that merely mentions the format is
// not), members named as the carrier names them, damaged input never throws and ends, and the
// budgets: a member over a budget is partial, never silently whole. Fixtures are built here
// (containers-carriers-fixtures.ts); ClamAV's public test files are used where noted.
import * as fs from "node:fs";
import * as zlib from "node:zlib";
import { beforeAll, describe, expect, test } from "vitest";
import { DEFAULT_LIMITS, createBudget, identify, openContainer, prepareSevenZip } from "../../src/containers";
import { ovbaDecompress } from "../../src/containers/ole";
import type { ContainerFormat, Limits } from "../../src/containers/types";
import { upxLzma } from "../../src/containers/lzma";
import { nrv } from "../../src/containers/upx";
import * as A from "../support/archives";
import * as F from "./containers-carriers-fixtures";

const { EICAR, concat, zip } = A;
const dec = new TextDecoder();
const eq = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(Buffer.from(b));
const limits = (over: Partial<Limits> = {}): Limits => ({ ...DEFAULT_LIMITS, ...over });

beforeAll(async () => {
  await prepareSevenZip();
});

function members(data: Uint8Array, over: Partial<Limits> = {}, format?: ContainerFormat) {
  const f = format ?? identify(data);
  if (!f) throw new Error("not a container");
  return [...openContainer(f, data, createBudget(limits(over)))].map((m) => ({ name: dec.decode(m.name), data: m.data, code: m.problem?.code }));
}

/** Every leaf as "a!b!c", the leaves equal to `needle`, and every problem, recursing like the scan. */
function tree(data: Uint8Array, needle: Uint8Array = EICAR, over: Partial<Limits> = {}) {
  const lim = limits(over);
  const budget = createBudget(lim);
  const out = { found: [] as string[], formats: [] as string[], problems: [] as string[] };
  const visit = (b: Uint8Array, path: string[]) => {
    if (eq(b, needle)) out.found.push(path.join("!"));
    const f = identify(b);
    if (f === null || path.length >= lim.maxDepth) return;
    out.formats.push(f);
    for (const m of openContainer(f, b, budget)) {
      const here = [...path, m.name.length ? dec.decode(m.name) : "-"];
      if (m.problem) out.problems.push(`${here.join("!")}: ${m.problem.code}`);
      if (m.data) visit(m.data, here);
    }
  };
  visit(data, ["top"]);
  return out;
}

const invoiceZip = () => zip([{ name: "a.exe", data: EICAR, method: "deflate" }]);

describe("identify: carriers by their first bytes; look-alike text is not one", () => {
  test.each<[string, () => Uint8Array, ContainerFormat | null]>([
    ["MIME message", () => F.bytes(F.mime([{ name: "a.bin", data: EICAR }])), "mail"],
    ["mbox", () => F.bytes(`From someone@example.com Thu Jan  1 00:00:00 2026\n${F.mime([{ name: "a.bin", data: EICAR }])}`), "mail"],
    ["BinHex", () => F.latin(F.binhex("a.bin", EICAR)), "binhex"],
    ["TNEF", () => F.tnef([{ name: "a.bin", data: EICAR }]), "tnef"],
    ["SZDD", () => F.szdd(EICAR), "szdd"],
    ["KWAJ", () => F.kwaj("a", "bin", EICAR, 2), "szdd"],
    ["PDF", () => F.pdfWithAttachment("a.bin", EICAR), "pdf"],
    ["PDF after a little junk", () => concat([F.bytes("junk\n"), F.pdfWithAttachment("a.bin", EICAR)]), "pdf"],
    ["RTF", () => F.rtf([F.ole1("Package", F.packageBlock("a.bin", EICAR))]), "rtf"],
    ["HTML with a data: URI", () => F.bytes(`<html><a href="data:application/octet-stream;base64,${Buffer.from(EICAR).toString("base64")}">x</a></html>`), "html"],
    ["Ole10Native stream", () => F.ole10Native("a.bin", EICAR), "ole-package"],
    ["PE with a zip after it", () => F.pe(undefined, invoiceZip()), "sfx"],
    ["PE with InstallShield files after it", () => F.pe(undefined, F.installShieldFiles([{ name: "a.bin", data: EICAR }])), "sfx"],
    ["shell script with a tar.gz after it", () => concat([F.bytes("#!/bin/sh\necho hi\nexit 0\n"), A.gzip(A.tar([{ name: "a", data: EICAR }]))]), "sfx"],
    ["UPX-packed PE", () => F.upxPe(EICAR, 2), "upx"],
    ["Symbian .sis", () => F.sis([{ name: "a.bin", data: EICAR }]), "sis"],
    // Not carriers:
    ["plain PE (no overlay)", () => F.pe(), null],
    ["PE with random bytes after it", () => F.pe(undefined, Uint8Array.from({ length: 3000 }, (_, i) => (i * 7919) & 0xff)), null],
    ["text mentioning From and %PDF later", () => F.bytes("Notes\nFrom here on, %PDF-1.4 files are discussed.\n" + "x".repeat(3000)), null],
    ["a line like a mail header, then prose", () => F.bytes("From: the desk of the editor\nThis is a letter, not a message.\n"), null],
    ["YAML that starts with a known field", () => F.bytes("date: 2026-01-01\ntitle: hello\nauthor: me\n"), null],
    ["markup without base64", () => F.bytes("<html><body>data: none here</body></html>"), null],
    // An ELF header that describes no segment or section: its "overlay" once began at 0, so the
    // file was its own overlay and identification recursed until the stack overflowed.
    ["ELF header that describes nothing, then strings", () => concat([Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), new Uint8Array(57), F.bytes("XMRig\0donate.v2.xmrig.com\0")]), null],
    ["shell script without a payload", () => F.bytes("#!/bin/sh\necho hi\n"), null],
    ["RTF-like text", () => F.bytes("{rtf is not \\rtf}"), null],
  ])("%s", (_, make, want) => {
    expect(identify(make())).toBe(want);
  });
});

describe("mail", () => {
  test("base64, quoted-printable and uuencoded parts by file name; a zip inside is opened in turn", () => {
    const msg = F.bytes(
      F.mime([
        { name: "invoice.zip", data: invoiceZip() },
        { name: "notes.txt", encoding: "quoted-printable", data: concat([F.latin("caf\xe9 = ok\n"), EICAR]) },
        { name: "old.exe", encoding: "x-uuencode", data: EICAR },
        { name: "r\u00e9sum\u00e9.exe", data: EICAR, rfc2231: true },
      ]),
    );
    const ms = members(msg);
    expect(ms.map((m) => m.name)).toEqual(["invoice.zip", "notes.txt", "old.exe", "résumé.exe"]);
    expect(ms.every((m) => m.code === undefined)).toBe(true);
    expect(eq(ms[1]!.data, concat([F.latin("caf\xe9 = ok\n"), EICAR]))).toBe(true);
    expect(eq(ms[2]!.data, EICAR)).toBe(true);
    expect(tree(msg).found).toEqual(["top!invoice.zip!a.exe", "top!old.exe", "top!résumé.exe"]);
  });

  test("mbox: every message's attachments; a forwarded message/rfc822 is read inside", () => {
    const inner = F.mime([{ name: "inner.exe", data: EICAR }], "From: c@example.com\nSubject: fwd\n", "inner-b");
    const m1 = F.mime([{ name: "one.exe", data: EICAR }]);
    const m2 = `From: d@example.com\nSubject: two\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b2"\n\n--b2\nContent-Type: message/rfc822\n\n${inner}\n--b2--\n`;
    const mbox = F.bytes(`From a@example.com Mon Jan  5 10:00:00 2026\n${m1}\nFrom d@example.com Mon Jan  5 11:00:00 2026\n${m2}`);
    expect(identify(mbox)).toBe("mail");
    expect(tree(mbox).found).toEqual(["top!one.exe", "top!inner.exe"]);
  });

  test("uuencoded block in a plain body (mbox.uu style) and a BinHex block in a body", () => {
    const plain = F.bytes(`From: a@example.com\nSubject: uu\n\nhere it is:\n\n${F.uuencode("x.exe", EICAR)}\nbye\n`);
    expect(members(plain).map((m) => [m.name, eq(m.data, EICAR)])).toEqual([["x.exe", true]]);
    const bh = F.bytes(`From: a@example.com\nSubject: bh\n\n${F.binhex("mac.exe", EICAR)}`);
    expect(members(bh).map((m) => [m.name, eq(m.data, EICAR)])).toEqual([["mac.exe", true]]);
  });

  test("truncated: what was decoded, with archive-corrupt (never clean)", () => {
    const msg = F.mime([{ name: "a.bin", data: new Uint8Array(3000).fill(0x41) }]);
    const cut = F.bytes(msg.slice(0, msg.length / 2));
    const ms = members(cut);
    expect(ms.some((m) => m.code === "archive-corrupt")).toBe(true);
    const uu = F.bytes(`From: a@example.com\nSubject: uu\n\n${F.uuencode("x.exe", new Uint8Array(2000).fill(7)).slice(0, 900)}`);
    expect(members(uu).map((m) => [m.name, m.code])).toEqual([["x.exe", "archive-corrupt"]]);
  });

  test("nesting: 5,000 multiparts deep ends quickly as archive-corrupt", () => {
    let s = "";
    for (let i = 0; i < 5000; i++) s += `Content-Type: multipart/mixed; boundary="b${i}"\n\n--b${i}\n`;
    const data = F.bytes(`From: a@example.com\nSubject: deep\n${s}`);
    const t0 = performance.now();
    const ms = members(data);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(ms.some((m) => m.code === "archive-corrupt")).toBe(true);
  });

  test("20,000 plain parts without blank lines: each part searched within itself, bounded time", () => {
    const parts = Array.from({ length: 20_000 }, () => "--b\nContent-Type: text/plain\nno blank line here").join("\n");
    const msg = F.bytes(`From: a@example.com\nSubject: many\nContent-Type: multipart/mixed; boundary="b"\n\n${parts}\n--b--\n`);
    const t0 = performance.now();
    members(msg);
    expect(performance.now() - t0).toBeLessThan(3000);
  });

  test("budgets: maxMembers and maxMemberSize", () => {
    const many = F.bytes(F.mime(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.bin`, data: EICAR }))));
    const ms = members(many, { maxMembers: 10 });
    expect(ms.filter((m) => m.data).length).toBe(10);
    expect(ms[ms.length - 1]!.code).toBe("archive-members");
    const big = F.bytes(F.mime([{ name: "big.bin", data: new Uint8Array(5000).fill(1) }]));
    expect(members(big, { maxMemberSize: 1000 }).map((m) => [m.data?.length, m.code])).toEqual([[1000, "archive-member-size"]]);
  });
});

describe("BinHex and TNEF", () => {
  test("BinHex: the data fork by its name; run-length coded too", () => {
    expect(members(F.latin(F.binhex("a.exe", EICAR))).map((m) => [m.name, eq(m.data, EICAR)])).toEqual([["a.exe", true]]);
    const runs = concat([EICAR, new Uint8Array(500).fill(0x90), new Uint8Array(300).fill(0)]);
    expect(members(F.latin(F.binhex("r.bin", runs, true))).map((m) => [m.name, eq(m.data, runs), m.code])).toEqual([["r.bin", true, undefined]]);
  });

  test("BinHex run-length bomb: stopped by the ratio budget", () => {
    // byte, then 0x90 255 repeated: 255x per 2 encoded bytes.
    const raw = concat([Uint8Array.of(1, 0x61, 0, ...F.latin("TEXTttxt"), 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0), ...Array.from({ length: 40000 }, () => Uint8Array.of(0x90, 255))]);
    const BH = '!"#$%&\'()*+,-012345689@ABCDEFGHIJKLMNPQRSTUVXYZ[`abcdefhijklmpqr';
    let s = "";
    let acc = 0;
    let bits = 0;
    for (const b of raw) {
      acc = ((acc << 8) | b) & 0xffffff;
      bits += 8;
      while (bits >= 6) (bits -= 6), (s += BH[(acc >> bits) & 63]);
    }
    const ms = members(F.latin(`(This file must be converted with BinHex 4.0)\n:${s}:\n`), { maxRatio: 10 });
    expect(ms.some((m) => m.code === "archive-ratio")).toBe(true);
  });

  test("TNEF: attachments by title; a cut attachment is archive-corrupt", () => {
    const t = F.tnef([
      { name: "one.exe", data: EICAR },
      { name: "two.txt", data: F.bytes("hello") },
    ]);
    expect(members(t).map((m) => [m.name, m.data && dec.decode(m.data)])).toEqual([
      ["one.exe", dec.decode(EICAR)],
      ["two.txt", "hello"],
    ]);
    expect(members(t.subarray(0, t.length - 12)).some((m) => m.code === "archive-corrupt")).toBe(true);
  });
});

describe("SZDD and KWAJ", () => {
  const text = F.bytes("The quick brown fox jumps over the lazy dog. ".repeat(40));
  test("SZDD: LZSS with matches and literals round-trips", () => {
    const z = F.szdd(concat([EICAR, text]));
    expect(z.length).toBeLessThan(text.length);
    const ms = members(z);
    expect(ms.length).toBe(1);
    expect(eq(ms[0]!.data, concat([EICAR, text]))).toBe(true);
  });
  test.each([0, 1, 2] as const)("KWAJ method %i: named from its header", (method) => {
    expect(members(F.kwaj("setup", "exe", text, method)).map((m) => [m.name, eq(m.data, text), m.code])).toEqual([["setup.exe", true, undefined]]);
  });
  test("truncated SZDD: the part decoded, archive-corrupt", () => {
    const z = F.szdd(text);
    const ms = members(z.subarray(0, z.length >> 1));
    expect(ms[0]!.code).toBe("archive-corrupt");
    expect(eq(ms[0]!.data, text.subarray(0, ms[0]!.data!.length))).toBe(true);
  });
});

describe("PDF", () => {
  test("embedded file by its name; Flate, ASCIIHex and ASCII85 streams decoded", () => {
    const p = F.pdf([
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [] /Count 0 >>",
      "<< /Type /Filespec /UF (report.exe) /EF << /F 4 0 R >> >>",
      { dict: "/Type /EmbeddedFile /Filter /FlateDecode", stream: zlib.deflateSync(EICAR) },
      { dict: "/Filter /ASCIIHexDecode", stream: F.latin(Buffer.from("js: app.alert(1)").toString("hex") + ">") },
      { dict: "/Filter [/ASCII85Decode /FlateDecode]", stream: F.latin(F.ascii85(zlib.deflateSync(F.bytes("eval(unescape('%u9090'))")))) },
      { dict: "/Length1 5", stream: F.bytes("plain stream, not a member") },
    ]);
    expect(members(p).map((m) => [m.name, m.data && dec.decode(m.data), m.code])).toEqual([
      ["report.exe", dec.decode(EICAR), undefined],
      ["obj-5", "js: app.alert(1)", undefined],
      ["obj-6", "eval(unescape('%u9090'))", undefined],
    ]);
  });

  test("LZW streams (early change, code widths up to 12 bits and a table reset) decoded", () => {
    const text = F.bytes(Array.from({ length: 3000 }, (_, i) => `line ${i % 97} of ${(i * 7919) % 1000}\n`).join(""));
    const p = F.pdf(["<< /Type /Catalog >>", { dict: "/Filter /LZWDecode", stream: F.lzwEncode(text) }]);
    const ms = members(p);
    expect(ms.map((m) => [m.name, m.code])).toEqual([["obj-2", undefined]]);
    expect(eq(ms[0]!.data, text)).toBe(true);
    expect(members(F.pdf(["<< >>", { dict: "/Filter /LZWDecode", stream: Uint8Array.of(0xff, 0xff, 0xff, 0xff) }])).map((m) => m.code)).toEqual(["archive-corrupt"]);
  });

  test("a /Length that refers to itself, or to nothing, ends at endstream (no loop)", () => {
    const p = F.pdf(["<< /Type /Catalog >>", { dict: "/Type /EmbeddedFile", stream: EICAR, lengthRef: 2 }, { dict: "/Type /EmbeddedFile", stream: EICAR, lengthRef: 9 }]);
    const t0 = performance.now();
    const ms = members(p);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(ms.map((m) => [m.name, eq(m.data, EICAR)])).toEqual([
      ["obj-2", true],
      ["obj-3", true],
    ]);
  });

  test("many objects without streams, file specs without an end, endless dictionaries: one pass, bounded time", () => {
    const junk = F.latin(`%PDF-1.7\n${"1 0 obj\n<< /EF << /F ".repeat(150_000)}\n2 0 obj << /Length 3 0 R >>\nstream\n${"x".repeat(1000)}`);
    const t0 = performance.now();
    const ms = members(junk);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(ms.every((m) => m.code !== undefined || m.data !== undefined)).toBe(true);
  });

  test("Flate bomb: stopped by the ratio budget, with the first part to scan", () => {
    const bomb = zlib.deflateSync(new Uint8Array(64 << 20));
    const ms = members(F.pdf(["<< /Type /Catalog >>", { dict: "/Filter /FlateDecode", stream: bomb }]));
    expect(ms.map((m) => m.code)).toEqual(["archive-ratio"]);
  });

  test("truncated inside a stream: archive-corrupt; encrypted: archive-encrypted", () => {
    const p = F.pdfWithAttachment("a.exe", new Uint8Array(4000).fill(0x41));
    const cut = p.subarray(0, p.indexOf(0x41) + 1000);
    expect(members(cut).some((m) => m.code === "archive-corrupt")).toBe(true);
    const enc = F.pdf(["<< /Type /Catalog >>", "<< /Filter /Standard /V 2 >>", { dict: "/Filter /FlateDecode", stream: zlib.deflateSync(EICAR) }], "/Encrypt 2 0 R ");
    expect(members(enc).map((m) => m.code)).toEqual(["archive-encrypted"]);
  });
});

describe("RTF, OLE packages, HTML", () => {
  test("RTF \\objdata: a Package yields its file; other classes their native data", () => {
    const r = F.rtf([F.ole1("Package", F.packageBlock("clam.exe", EICAR)), F.ole1("Word.Document.8", A.ole("x", EICAR))]);
    const ms = members(r);
    expect(ms.map((m) => m.name)).toEqual(["clam.exe", "object-2.Word.Document.8"]);
    expect(eq(ms[0]!.data, EICAR)).toBe(true);
    expect(identify(ms[1]!.data!)).toBe("msi");
  });

  test("RTF \\objdata with control words, groups and escapes scattered in the hex (as exploit documents do)", () => {
    const hex = Buffer.from(F.ole1("Package", F.packageBlock("x.exe", EICAR))).toString("hex");
    const noisy = hex.replace(/(.{7})/g, "$1{\\*\\junk12 }\\par\r\n\\'41 ");
    const doc = F.latin(`{\\rtf1{\\object\\objemb{\\*\\objdata ${noisy}}}}`);
    expect(members(doc).map((m) => [m.name, eq(m.data, EICAR)])).toEqual([["x.exe", true]]);
  });

  test("Ole10Native: the packaged file; cut short: archive-corrupt", () => {
    const n = F.ole10Native("payload.exe", concat([EICAR, new Uint8Array(100)]));
    expect(members(n).map((m) => [m.name, m.code])).toEqual([["payload.exe", undefined]]);
    expect(members(n.subarray(0, n.length - 50), {}, "ole-package").map((m) => m.code)).toEqual(["archive-corrupt"]);
  });

  test("HTML smuggling: a long quoted base64 string decoded by atob() is a member", () => {
    const payload = concat([EICAR, new Uint8Array(2000).fill(0x41)]);
    const html = F.bytes(`<html><script>var b = atob("${Buffer.from(payload).toString("base64")}"); save(b);</script></html>`);
    expect(identify(html)).toBe("html");
    expect(members(html).map((m) => [m.name, eq(m.data, payload)])).toEqual([["blob-1.bin", true]]);
  });

  test("HTML: base64 data: URIs as members", () => {
    const html = F.bytes(`<!doctype html><img src="data:image/png;base64,iVBORw0KGgo="><a href="data:application/x-msdownload;base64,${Buffer.from(EICAR).toString("base64")}">get</a>`);
    const ms = members(html);
    expect(ms.map((m) => m.name)).toEqual(["data-1.png", "data-2.x-msdownload"]);
    expect(eq(ms[1]!.data, EICAR)).toBe(true);
  });
});

describe("compound files: streams, packages, VBA source, PowerPoint objects", () => {
  test("a .doc-like file: the Ole10Native object's file is found two deep", () => {
    const doc = F.cfb([
      { path: "WordDocument", data: new Uint8Array(600).fill(1) },
      { path: "ObjectPool/_123/\x01Ole10Native", data: F.ole10Native("clam.exe", EICAR) },
    ]);
    expect(tree(doc).found).toEqual(["top!ObjectPool/_123/[1]Ole10Native!clam.exe"]);
  });

  test("VBA: each module's source decompressed as <storage>/VBA/<module>.vba", () => {
    const source = 'Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n  Shell "calc.exe"\r\nEnd Sub\r\n'.repeat(30);
    const doc = F.cfb([{ path: "WordDocument", data: new Uint8Array(600) }, ...F.vbaProject("Macros/", [{ name: "Module1", source }, { name: "ThisDocument", source: "Sub Document_Open()\r\nEnd Sub\r\n" }])]);
    const ms = members(doc);
    const vba = ms.filter((m) => m.name.endsWith(".vba"));
    expect(vba.map((m) => m.name)).toEqual(["Macros/VBA/Module1.vba", "Macros/VBA/ThisDocument.vba"]);
    expect(dec.decode(vba[0]!.data)).toBe(source);
  });

  test("MS-OVBA: a copy token (offset 3, length 6) and a damaged token", () => {
    expect(dec.decode(ovbaDecompress(Uint8Array.of(1, 0x05, 0xb0, 0x08, 0x61, 0x62, 0x63, 0x03, 0x20), 0, 100)!)).toBe("abcabcabc");
    expect(ovbaDecompress(Uint8Array.of(2, 0, 0), 0, 100)).toBeNull();
    // An offset before the chunk's start: what came before, no throw.
    expect(dec.decode(ovbaDecompress(Uint8Array.of(1, 0x05, 0xb0, 0x08, 0x61, 0x62, 0x63, 0x03, 0xf0), 0, 100)!)).toBe("abc");
  });

  test("PowerPoint: an ExOleObjStg object is inflated and opened (a compound file with a package)", () => {
    const object = A.ole("\x01Ole10Native", F.ole10Native("clam.exe", EICAR));
    const ppt = F.cfb([
      { path: "PowerPoint Document", data: F.pptDocument(object) },
      { path: "Current User", data: new Uint8Array(40) },
    ]);
    expect(tree(ppt).found).toEqual(["top!PowerPoint Document.object-1![1]Ole10Native!clam.exe"]);
  });
});

describe("executables carrying archives", () => {
  test("zip after a PE (found by its end record): members named directly", () => {
    expect(tree(F.pe(undefined, invoiceZip())).found).toEqual(["top!a.exe"]);
  });

  test("an executable appended to an executable: 'overlay.exe'", () => {
    const payload = F.pe([{ name: ".text", data: concat([EICAR, new Uint8Array(400)]) }]);
    const dropper = F.pe(undefined, payload);
    expect(identify(dropper)).toBe("sfx");
    expect(members(dropper).map((m) => [m.name, eq(m.data, payload)])).toEqual([["overlay.exe", true]]);
  });

  test("7z and cab after a PE, a few bytes in", async () => {
    const seven = await A.sevenZipCreate("7z", [{ name: "s.exe", data: EICAR }]);
    expect(tree(F.pe(undefined, concat([new Uint8Array(16), seven]))).found).toEqual(["top!s.exe"]);
    expect(tree(F.pe(undefined, A.cab([{ name: "c.exe", data: EICAR }]))).found).toEqual(["top!c.exe"]);
  });

  test("shell script with a tar.gz (makeself): payload, then its files", () => {
    const run = concat([F.bytes("#!/bin/sh\n# makeself\nexit 0\n"), A.gzip(A.tar([{ name: "./setup.bin", data: EICAR }]))]);
    // The scan opens the gzip in place (payload.tar.gz!./setup.bin); this walk shows the layer as "-".
    expect(tree(run).found).toEqual(["top!payload.tar.gz!-!./setup.bin"]);
  });

  test("InstallShield: plain entries and the obfuscated MSI-based stream", () => {
    const plain = F.pe(undefined, F.installShieldFiles([{ name: "readme.txt", data: F.bytes("hi") }, { name: "clam.exe", data: EICAR }]));
    expect(members(plain).map((m) => m.name)).toEqual(["readme.txt", "clam.exe"]);
    expect(tree(plain).found).toEqual(["top!clam.exe"]);
    const msi = F.pe(undefined, concat([F.bytes("NB10 debug info before it\0"), F.installShieldMsi([{ name: "setup.msi", data: A.ole("payload.exe", EICAR) }])]));
    expect(tree(msi).found).toEqual(["top!setup.msi!payload.exe"]);
    // Cut inside the second file: the first whole, then archive-corrupt.
    const cut = plain.subarray(0, plain.length - 20);
    expect(members(cut).map((m) => m.code)).toEqual([undefined, "archive-corrupt"]);
  });

  test("NSIS installer through 7z-wasm (ClamAV's clam-nsis.exe)", () => {
    const file = "/usr/share/clamav-testfiles/clam-nsis.exe";
    expect(fs.existsSync(file), "make test-tools installs clamav-testfiles").toBe(true);
    const clam = new Uint8Array(fs.readFileSync("/usr/share/clamav-testfiles/clam.exe"));
    expect(tree(new Uint8Array(fs.readFileSync(file)), clam).found).toEqual(["top!clam.exe"]);
  });

  test.each(["clam.ea05.exe", "clam.ea06.exe"])("AutoIt (ClamAV's %s, itself UPX'd): the script, the FileInstall'd clam.exe, the UPX image", (name) => {
    const file = `/usr/share/clamav-testfiles/${name}`;
    expect(fs.existsSync(file), "make test-tools installs clamav-testfiles").toBe(true);
    const clam = new Uint8Array(fs.readFileSync("/usr/share/clamav-testfiles/clam.exe"));
    const data = new Uint8Array(fs.readFileSync(file));
    expect(identify(data)).toBe("sfx");
    const ms = members(data);
    expect(ms.map((m) => m.name)).toEqual([name === "clam.ea05.exe" ? "autD.tmp" : "aut7.tmp", "clam.exe", "upx"]);
    expect(ms.every((m) => m.code === undefined)).toBe(true);
    expect(eq(ms[1]!.data, clam)).toBe(true);
    // EA05 keeps the script's source (UTF-16); EA06 its tokens.
    if (name === "clam.ea05.exe") expect(Buffer.from(ms[0]!.data!).toString("utf16le")).toContain("AUT2EXE VERSION");
    // Cut inside clam.exe's record: the script whole, then archive-corrupt; never a throw on any prefix.
    const au3 = Buffer.from(data).indexOf("AU3!EA0");
    const cut = data.subarray(0, au3 + (data.length - au3) - 300);
    expect(members(cut, {}, "sfx").some((m) => m.code === "archive-corrupt")).toBe(true);
    for (let n = au3; n <= data.length; n += 97) expect(() => members(data.subarray(0, n), {}, "sfx")).not.toThrow();
  });

  test(".sis: zlib-compressed and stored files by their target names", () => {
    expect(tree(F.sis([{ name: "a.exe", data: EICAR }])).found).toEqual(["top!a.exe"]);
    expect(tree(F.sis([{ name: "b.exe", data: EICAR }], true)).found).toEqual(["top!b.exe"]);
  });
});

describe("UPX", () => {
  const image = concat([F.bytes("MZ unpacked image "), EICAR, new Uint8Array(300).fill(0x55)]);
  test.each([2, 5, 8, 14] as const)("method %i (NRV2B/2D/2E, LZMA): the image as member 'upx', checked by Adler-32", (method) => {
    const ms = members(F.upxPe(image, method));
    expect(ms.map((m) => [m.name, eq(m.data, image), m.code])).toEqual([["upx", true, undefined]]);
  });

  test.each([2, 5, 8, 14] as const)("ELF, method %i: blocks unpacked and joined into 'upx'", (method) => {
    const elf = concat([F.bytes("\x7fELF original "), new Uint8Array(4000).fill(0x31), EICAR]);
    const packed = F.upxElf(elf, method);
    expect(identify(packed)).toBe("upx");
    expect(members(packed).map((m) => [m.name, eq(m.data, elf), m.code])).toEqual([["upx", true, undefined]]);
    // Cut inside the blocks: never clean.
    expect(members(packed.subarray(0, packed.length - 1500), {}, "upx").map((m) => m.code)).toEqual(["archive-corrupt"]);
  });

  test("ClamAV's clam-upx.exe (NRV2B) unpacks to the size and checksum its header gives", () => {
    const file = "/usr/share/clamav-testfiles/clam-upx.exe";
    expect(fs.existsSync(file), "make test-tools installs clamav-testfiles").toBe(true);
    const ms = members(new Uint8Array(fs.readFileSync(file)));
    expect(ms.map((m) => [m.name, m.data?.length, m.code])).toEqual([["upx", 0x420a, undefined]]);
    expect(Buffer.from(ms[0]!.data!).includes("CLAMessageBoxA")).toBe(true);
  });

  test("damaged stream, wrong checksum, unknown method: never clean", () => {
    const good = F.upxPe(image, 2);
    const bad = good.slice();
    bad[0x400 + 40] ^= 0xff; // a literal byte changes: the checksum no longer matches
    expect(members(bad).map((m) => m.code)).toEqual(["archive-corrupt"]);
    const other = good.slice();
    other[0x3e0 + 6] = 3; // NRV2B for 8-bit words: no UPX for PE writes it
    expect(members(other).map((m) => m.code)).toEqual(["archive-unsupported"]);
    expect(nrv("2b", Uint8Array.of(0, 0, 0, 0), 100).error).toBeDefined();
  });

  test("LZMA: lc/lp/pb as xz writes them (lc + lp ≤ 4), on text with long matches; a damaged stream is an error, never a throw", () => {
    const text = fs.readFileSync(require.resolve("typescript/lib/lib.dom.d.ts")).subarray(0, 200_000);
    for (const [lc, lp, pb] of [[3, 0, 2], [0, 2, 0], [4, 0, 4], [1, 3, 1], [2, 2, 3]] as const) {
      const stream = F.upxLzmaStream(text, lc, lp, pb);
      const out = upxLzma(stream, text.length);
      expect([out.error, eq(out.data, text)], `lc ${lc} lp ${lp} pb ${pb}`).toEqual([undefined, true]);
    }
    const stream = F.upxLzmaStream(text);
    // xz's raw stream ends with the end marker: asked for more, the decoder stops there and says so.
    expect(upxLzma(stream, text.length + 10).error).toMatch(/ended after 200000 of 200010/);
    expect(upxLzma(stream.subarray(0, stream.length >> 1), text.length).error).toMatch(/ends early/);
    expect(upxLzma(Uint8Array.of(0x1a, 0x03, 1, 2, 3), 10).error).toMatch(/first byte/);
    expect(upxLzma(Uint8Array.of(0x22, 0x03, 0, 0, 0, 0, 0), 10).error).toMatch(/agree/);
    for (let i = 0; i < 300; i++) {
      const m = stream.slice(0, 4000);
      m[2 + ((i * 7919) % 3998)] ^= 1 << i % 8;
      expect(() => upxLzma(m, 20_000)).not.toThrow();
    }
  });
});

describe("damaged input never throws and always ends", () => {
  const fixtures: [string, () => Uint8Array][] = [
    ["mail", () => F.bytes(F.mime([{ name: "a.zip", data: invoiceZip() }, { name: "b", encoding: "quoted-printable", data: EICAR }, { name: "u", encoding: "x-uuencode", data: EICAR }]))],
    ["binhex", () => F.latin(F.binhex("a", concat([EICAR, new Uint8Array(200)]), true))],
    ["tnef", () => F.tnef([{ name: "a", data: EICAR }, { name: "b", data: EICAR }])],
    ["szdd", () => F.szdd(concat([EICAR, EICAR, EICAR]))],
    ["kwaj", () => F.kwaj("a", "b", concat([EICAR, EICAR]), 2)],
    ["pdf", () => F.pdf(["<< /Type /Catalog >>", "<< /Type /Filespec /F (x) /EF << /F 3 0 R >> >>", { dict: "/Type /EmbeddedFile /Filter /FlateDecode", stream: zlib.deflateSync(EICAR), lengthRef: 4 }, "80"])],
    ["rtf", () => F.rtf([F.ole1("Package", F.packageBlock("a", EICAR))])],
    ["ole-package", () => F.ole10Native("a", EICAR)],
    ["sfx (InstallShield)", () => F.pe(undefined, F.installShieldFiles([{ name: "a", data: EICAR }]))],
    ["sfx (InstallShield MSI)", () => F.pe(undefined, F.installShieldMsi([{ name: "a", data: EICAR }]))],
    ["sis", () => F.sis([{ name: "a", data: EICAR }])],
    ["upx", () => F.upxPe(concat([EICAR, EICAR]), 8)],
    ["upx (ELF)", () => F.upxElf(concat([EICAR, EICAR, EICAR]), 5)],
  ];
  test.each(fixtures)("%s: every prefix, and 1,000 random byte changes", (_, make) => {
    const good = make();
    const format = identify(good)!;
    expect(format).not.toBeNull();
    for (let n = 0; n <= good.length; n += Math.max(1, good.length >> 8)) expect(() => members(good.subarray(0, n), {}, format)).not.toThrow();
    let seed = 4242;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 1000; i++) {
      const bad = good.slice();
      for (let j = 0, n = 1 + (next() % 4); j < n; j++) bad[next() % bad.length] = next() & 0xff;
      let out: ReturnType<typeof members> = [];
      expect(() => (out = members(bad, {}, format))).not.toThrow();
      for (const m of out) expect(m.data !== undefined || m.code !== undefined).toBe(true);
    }
  });
});
