// Mach-O files written byte by byte for the macho module's tests: thin files in both byte orders
// and word sizes with every load command the module reads, and fat files around them.
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export class Writer {
  readonly parts: number[] = [];
  constructor(readonly le: boolean) {}
  get length(): number {
    return this.parts.length;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff];
    this.parts.push(...(this.le ? b : b.reverse()));
    return this;
  }
  u32(v: number): this {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.parts.push(...(this.le ? b : b.reverse()));
    return this;
  }
  be32(v: number): this {
    this.parts.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
    return this;
  }
  u64(v: bigint): this {
    const lo = Number(v & 0xffffffffn);
    const hi = Number((v >> 32n) & 0xffffffffn);
    return this.le ? this.u32(lo).u32(hi) : this.u32(hi).u32(lo);
  }
  word(is64: boolean, v: bigint): this {
    return is64 ? this.u64(v) : this.u32(Number(v));
  }
  bytes(b: Uint8Array | number[] | string): this {
    const a = typeof b === "string" ? enc(b) : b;
    for (const x of a) this.parts.push(x);
    return this;
  }
  fixed(s: string, n: number): this {
    const a = enc(s);
    for (let i = 0; i < n; i++) this.parts.push(a[i] ?? 0);
    return this;
  }
  pad(to: number): this {
    while (this.parts.length < to) this.parts.push(0);
    return this;
  }
  align(n: number): this {
    while (this.parts.length % n) this.parts.push(0);
    return this;
  }
  out(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v) b |= 0x80;
    out.push(b);
  } while (v);
  return out;
};

export interface Options {
  is64: boolean;
  le: boolean;
  cputype: number;
  /** LC_MAIN, or LC_UNIXTHREAD with the CPU's thread state. */
  thread?: boolean;
  chained?: boolean;
  entitlements?: string;
  /** A CMS blob (a BER sequence, not a real signature) in the code signature. */
  cms?: boolean;
  extra?: (w: Writer, is64: boolean) => void;
}

export const ENTITLEMENTS = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
\t<key>com.apple.security.app-sandbox</key>
\t<true/>
\t<key>com.apple.security.application-groups</key>
\t<array>
\t\t<string>group.example.one</string>
\t\t<string>group.example.two</string>
\t\t<string>group.example.one</string>
\t</array>
\t<key>keychain-access-groups</key>
\t<array><string>no-leading-text</string></array>
\t<key>a &amp; b &#x41;</key>
\t<string>x</string>
</dict>
</plist>
`;

/**
 * A Mach-O file with every load command the module reads: segments with sections, dylibs of each
 * kind, rpath, dylinker, symtab + dysymtab, dyld info (bind opcodes and an export trie) or chained
 * fixups, uuid, build and min versions, source version, linker options, a code signature with an
 * entitlements blob, and LC_MAIN or LC_UNIXTHREAD.
 */
export function build(o: Options): Uint8Array {
  const { is64, le } = o;
  const w = new Writer(le);
  const cmds: ((w: Writer) => void)[] = [];
  const cmd = (type: number, body: (w: Writer) => void) =>
    cmds.push((w) => {
      const start = w.length;
      w.u32(type).u32(0);
      body(w);
      w.align(is64 ? 8 : 4);
      // Patch the size in place.
      w.parts.splice(start + 4, 4, ...sizeBytes(w.length - start, le));
    });
  const seg = is64 ? 0x19 : 0x1;
  // Data area (after the commands) at 0x1000: symbols, strings, bind opcodes, export trie, signature.
  const DATA = 0x1000;
  const data = new Writer(le);
  const strtabOff = DATA;
  const strings = "\0_main\0_helper\0_printf\0_malloc\0__mh_execute_header\0";
  data.bytes(strings).align(8);
  const symOff = DATA + data.length;
  const nl = (strx: number, type: number, sect: number, desc: number, value: bigint) => data.u32(strx).u8(type).u8(sect).u16(desc).word(is64, value);
  nl(1, 0x0f, 1, 0, 0x1000n); // _main: N_SECT | N_EXT
  nl(7, 0x0e, 1, 0, 0x1010n); // _helper: local
  nl(15, 0x01, 0, 0x100, 0n); // _printf: undefined external
  nl(23, 0x01, 0, 0x100, 0n); // _malloc
  nl(31, 0x03, 0, 0x10, 0x0n); // __mh_execute_header: N_ABS | N_EXT
  nl(0, 0x01, 0, 0, 0n); // no name: not listed
  nl(9999, 0x01, 0, 0, 0n); // past the string table: not listed
  const nsyms = 7;
  data.align(8);
  const bindOff = DATA + data.length;
  data.bytes([0x11, 0x40]).bytes("_printf\0").bytes([0x51, 0x72, ...uleb(16), 0x90, 0x40]).bytes("_malloc\0").bytes([0x60, 0x7f, 0x90, 0xc0, 2, 8, 0x00]);
  const bindSize = DATA + data.length - bindOff;
  const lazyOff = DATA + data.length;
  data.bytes([0x72, 0x10, 0x11, 0x40]).bytes("_printf\0").bytes([0x90, 0x00, 0x40]).bytes("_exit\0").bytes([0x90, 0x00]);
  const lazySize = DATA + data.length - lazyOff;
  data.align(4);
  // Export trie: root -> "_" -> {"main" (regular), "help" (re-export), "res" (stub and resolver)}.
  const trieOff = DATA + data.length;
  const trie: number[] = new Array(60).fill(0);
  const node = (at: number, b: number[]) => trie.splice(at, b.length, ...b);
  node(0, [0, 1, ...enc("_\0"), 5]);
  node(5, [0, 3, ...enc("main\0"), 30, ...enc("help\0"), 40, ...enc("res\0"), 55]);
  node(30, [3, 0, ...uleb(0x1000), 0]); // regular: flags, address
  node(40, [5, 8, 1, ...enc("_x\0"), 0]); // re-export: flags, ordinal, name
  node(55, [3, 0x10, 4, 8, 0]); // stub and resolver: flags, two offsets
  data.bytes(trie);
  const trieSize = DATA + data.length - trieOff;
  data.align(4);
  // Chained fixups: header, imports (DYLD_CHAINED_IMPORT), symbol names.
  const fixOff = DATA + data.length;
  const fix = new Writer(le);
  fix.u32(0).u32(28).u32(28).u32(40).u32(3).u32(1).u32(0);
  fix.u32(1 | (0 << 9)).u32(1 | (7 << 9)).u32(2 | (13 << 9));
  fix.bytes("_abort\0_exit\0_strlen\0");
  data.bytes(fix.out());
  const fixSize = DATA + data.length - fixOff;
  data.align(16);
  // Code signature: a superblob with an entitlements blob and a blob of another kind.
  const sigOff = DATA + data.length;
  const ent = enc(o.entitlements ?? ENTITLEMENTS);
  const sig = new Writer(false);
  const cms = [0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02, 0x00, 0x00];
  const blobs = o.cms ? 3 : 2;
  const first = 12 + 8 * blobs;
  sig.be32(0xfade0cc0).be32(0).be32(blobs).be32(5).be32(first).be32(0).be32(first + 8 + ent.length);
  if (o.cms) sig.be32(0x10000).be32(first + 8 + ent.length + 12);
  sig.be32(0xfade7171).be32(8 + ent.length).bytes(ent);
  sig.be32(0xfade0c02).be32(12).be32(0);
  if (o.cms) sig.be32(0xfade0b01).be32(8 + cms.length).bytes(cms);
  data.bytes(sig.out());
  const sigSize = DATA + data.length - sigOff;

  cmd(seg, (w) => {
    w.fixed("__PAGEZERO", 16).word(is64, 0n).word(is64, 0x1000n).word(is64, 0n).word(is64, 0n).u32(0).u32(0).u32(0).u32(0);
  });
  cmd(seg, (w) => {
    w.fixed("__TEXT", 16).word(is64, 0x1000n).word(is64, 0x2000n).word(is64, 0n).word(is64, 0x2000n).u32(5).u32(5).u32(2).u32(0);
    for (const [sect, addr] of [["__text", 0x1f00n], ["__cstring", 0x2400n]] as const) {
      w.fixed(sect, 16).fixed("__TEXT", 16).word(is64, addr).word(is64, 0x100n).u32(Number(addr) - 0x1000).u32(4).u32(0).u32(0).u32(0x80000400).u32(0).u32(0);
      if (is64) w.u32(0);
    }
  });
  cmd(seg, (w) => {
    w.fixed("__LINKEDIT_LONGNAM", 16).word(is64, 0x3000n).word(is64, 0x4000n).word(is64, 0x1000n).word(is64, 0x4000n).u32(1).u32(1).u32(0).u32(4);
  });
  for (const [type, name] of [[0xc, "/usr/lib/libSystem.B.dylib"], [0x80000018, "/System/Library/Frameworks/Security.framework/Security"], [0x8000001f, "@rpath/libfoo.dylib"], [0x20, "/usr/lib/liblazy.dylib"], [0x80000023, "/usr/lib/libup.dylib"], [0xd, "@rpath/libself.dylib"]] as const) {
    cmd(type, (w) => w.u32(24).u32(0x5f000000).u32(0x050a0102).u32(0x00010000).bytes(name + "\0"));
  }
  cmd(0x8000001c, (w) => w.u32(12).bytes("@executable_path/../Frameworks\0"));
  cmd(0x8000001c, (w) => w.u32(12).bytes("/opt/lib"));
  cmd(0xe, (w) => w.u32(12).bytes("/usr/lib/dyld\0"));
  cmd(0x2, (w) => w.u32(symOff).u32(nsyms).u32(strtabOff).u32(strings.length));
  cmd(0xb, (w) => {
    for (let i = 0; i < 18; i++) w.u32(i * 3 + 1);
  });
  if (o.chained) {
    cmd(0x80000034, (w) => w.u32(fixOff).u32(fixSize));
  } else {
    cmd(0x80000022, (w) => w.u32(0).u32(0).u32(bindOff).u32(bindSize).u32(0).u32(0).u32(lazyOff).u32(lazySize).u32(trieOff).u32(trieSize));
  }
  if (o.chained) cmd(0x80000033, (w) => w.u32(trieOff).u32(trieSize));
  cmd(0x1b, (w) => w.bytes([0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]));
  cmd(0x32, (w) => w.u32(1).u32(0x000d0100).u32(0x000e0200).u32(2).u32(3).u32(0x03b80100).u32(4).u32(0x00010203));
  cmd(0x24, (w) => w.u32(0x000a0e00).u32(0x000b0000));
  cmd(0x2a, (w) => w.u64((12n << 40n) | (3n << 30n) | (4n << 20n) | (5n << 10n) | 6n));
  cmd(0x2d, (w) => w.u32(3).bytes("-lz\0-framework\0Security\0"));
  cmd(0x1d, (w) => w.u32(sigOff).u32(sigSize));
  if (o.thread) {
    cmd(0x5, (w) => threadState(w, o.cputype, is64));
  } else {
    cmd(0x80000028, (w) => w.u64(0x1f00n).u64(0x100000n));
  }
  o.extra?.(w, is64);

  const body = new Writer(le);
  for (const c of cmds) c(body);
  const ncmds = cmds.length;
  const magic = is64 ? 0xfeedfacf : 0xfeedface;
  if (le) w.u32(magic);
  else w.be32(magic);
  w.u32(o.cputype).u32(3).u32(2).u32(ncmds).u32(body.length).u32(0x00200085);
  if (is64) w.u32(0);
  w.bytes(body.out());
  w.pad(DATA).bytes(data.out());
  w.pad(0x1000 + 0x4000);
  return w.out();
}

function sizeBytes(n: number, le: boolean): number[] {
  const b = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  return le ? b : b.reverse();
}

/** A thread state whose program counter is 0x1f40 (inside __TEXT), other registers numbered. */
function threadState(w: Writer, cputype: number, is64: boolean): void {
  const regs32 = (n: number, pcAt: number) => {
    for (let i = 0; i < n; i++) w.u32(i === pcAt ? 0x1f40 : i + 1);
  };
  const regs64 = (n: number, pcAt: number) => {
    for (let i = 0; i < n; i++) w.u64(i === pcAt ? 0x1f40n : BigInt(i + 1));
  };
  w.u32(1).u32(0);
  switch (cputype) {
    case 7: return regs32(16, 10);
    case 0x01000007: return regs64(21, 16);
    case 12: return regs32(17, 15);
    case 0x0100000c: regs64(33, 32); w.u32(0); return;
    case 18: return regs32(40, 0);
    case 0x01000012: regs64(34, 0); w.u32(0); regs64(4, 9); return;
    case 6: regs32(16, 99); w.u16(0).u16(0).u32(0x1f40); return;
    case 13: return regs32(34, 31);
    case 14: return regs32(18, 1);
    default: regs32(8, 99); void is64;
  }
}

/** A fat file of `files`, 32- or 64-bit fat headers, in either byte order. */
export function fat(files: { data: Uint8Array; cputype: number; cpusubtype: number }[], fat64 = false, le = false): Uint8Array {
  const w = new Writer(le);
  const magic = fat64 ? 0xcafebabf : 0xcafebabe;
  w.u32(magic).u32(files.length);
  let off = 0x1000;
  const offsets: number[] = [];
  for (const f of files) {
    offsets.push(off);
    w.u32(f.cputype).u32(f.cpusubtype).word(fat64, BigInt(off)).word(fat64, BigInt(f.data.length)).u32(12);
    if (fat64) w.u32(0);
    off += Math.ceil(f.data.length / 0x1000) * 0x1000;
  }
  files.forEach((f, i) => w.pad(offsets[i]).bytes(f.data));
  return w.out();
}

export const CPUS: [string, number, boolean][] = [
  ["x86", 7, false], ["x86_64", 0x01000007, true], ["arm", 12, false], ["arm64", 0x0100000c, true], ["ppc", 18, false],
  ["ppc64", 0x01000012, true], ["m68k", 6, false], ["m88k", 13, false], ["sparc", 14, false], ["unknown cpu", 99, true],
];

