// The entitlements of a code signature as YARA-X 1.20 lists them from the plist XML (roxmltree):
// in document order, the text of each <key> and, for each <array> whose first child is text, the
// distinct non-blank texts of the array and everything in it. Only plain XML is read here
// (elements, attributes, text with the predefined and numeric entities, an XML declaration and a
// DOCTYPE without an internal subset); anything else (comments, CDATA, entity declarations,
// namespaces, carriage returns) is UNKNOWN, so that YARA-X decides rather than a guess here.
import { UNKNOWN, type Unknown } from "../../contracts";

interface Element {
  name: string;
  children: (Element | string)[];
}

/** Not in the subset read here. */
class Unsupported extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*/;
const MAX_DEPTH = 256;
const XML_DECL = /^<\?xml\s+version\s*=\s*(?:"1\.[0-9]"|'1\.[0-9]')(?:\s+encoding\s*=\s*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:\s+standalone\s*=\s*(?:"(?:yes|no)"|'(?:yes|no)'))?\s*$/;

class XmlReader {
  pos = 0;
  constructor(readonly s: string) {}

  fail(): never {
    throw new Unsupported();
  }
  startsWith(t: string): boolean {
    return this.s.startsWith(t, this.pos);
  }
  skipSpace(): void {
    while (this.pos < this.s.length && " \t\n".includes(this.s[this.pos])) this.pos++;
  }
  name(): string {
    const m = NAME.exec(this.s.slice(this.pos, this.pos + 256));
    if (!m || m[0].length === 256) this.fail();
    this.pos += m[0].length;
    if (this.s[this.pos] === ":") this.fail();
    return m[0];
  }
  /** The prolog: an XML declaration, then blanks and a DOCTYPE without an internal subset. */
  prolog(): void {
    if (this.startsWith("<?xml")) {
      const end = this.s.indexOf("?>", this.pos);
      if (end < 0) this.fail();
      const decl = this.s.slice(this.pos, end);
      if (!XML_DECL.test(decl)) this.fail();
      this.pos = end + 2;
    }
    this.skipSpace();
    if (this.startsWith("<!DOCTYPE")) {
      const end = this.s.indexOf(">", this.pos);
      if (end < 0) this.fail();
      const body = this.s.slice(this.pos + 9, end);
      if (!/^\s+[A-Za-z_][A-Za-z0-9_.-]*(\s+PUBLIC\s+"[^"]*"\s+"[^"]*"|\s+SYSTEM\s+"[^"]*")?\s*$/.test(body)) this.fail();
      this.pos = end + 1;
      this.skipSpace();
    }
  }
  element(depth: number): Element {
    if (depth > MAX_DEPTH || this.s[this.pos] !== "<") this.fail();
    this.pos++;
    const name = this.name();
    const seen = new Set<string>();
    for (;;) {
      const before = this.pos;
      this.skipSpace();
      if (this.startsWith("/>")) {
        this.pos += 2;
        return { name, children: [] };
      }
      if (this.s[this.pos] === ">") {
        this.pos++;
        break;
      }
      if (this.pos === before) this.fail();
      const attr = this.name();
      if (seen.has(attr)) this.fail();
      seen.add(attr);
      this.skipSpace();
      if (this.s[this.pos] !== "=") this.fail();
      this.pos++;
      this.skipSpace();
      const q = this.s[this.pos];
      if (q !== '"' && q !== "'") this.fail();
      const end = this.s.indexOf(q, this.pos + 1);
      if (end < 0) this.fail();
      const value = this.s.slice(this.pos + 1, end);
      if (/[<&]/.test(value)) this.fail();
      this.pos = end + 1;
    }
    const children: (Element | string)[] = [];
    for (;;) {
      if (this.pos >= this.s.length) this.fail();
      if (this.startsWith("</")) {
        this.pos += 2;
        if (this.name() !== name) this.fail();
        this.skipSpace();
        if (this.s[this.pos] !== ">") this.fail();
        this.pos++;
        return { name, children };
      }
      if (this.startsWith("<!") || this.startsWith("<?")) this.fail();
      if (this.s[this.pos] === "<") children.push(this.element(depth + 1));
      else children.push(this.text());
    }
  }
  text(): string {
    let out = "";
    while (this.pos < this.s.length && this.s[this.pos] !== "<") {
      const ch = this.s[this.pos];
      if (ch === "&") {
        const end = this.s.indexOf(";", this.pos);
        if (end < 0 || end - this.pos > 12) this.fail();
        out += entity(this.s.slice(this.pos + 1, end));
        this.pos = end + 1;
        continue;
      }
      if (ch === "]" && this.startsWith("]]>")) this.fail();
      out += ch;
      this.pos++;
    }
    return out;
  }
}

function entity(name: string): string {
  switch (name) {
    case "lt":
      return "<";
    case "gt":
      return ">";
    case "amp":
      return "&";
    case "apos":
      return "'";
    case "quot":
      return '"';
  }
  const m = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(name);
  if (!m) throw new Unsupported();
  const cp = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
  // Only characters XML allows (and that need no further checks) are read here.
  if (cp < 0x20 || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffe || cp === 0xffff || cp > 0x10ffff) throw new Unsupported();
  return String.fromCodePoint(cp);
}

/** roxmltree's Node::text(): an element's first child when it is text, a text node's text. */
function nodeText(n: Element | string): string | undefined {
  if (typeof n === "string") return n;
  const first = n.children[0];
  return typeof first === "string" ? first : undefined;
}

function* descendants(n: Element | string): Generator<Element | string> {
  yield n;
  if (typeof n !== "string") for (const c of n.children) yield* descendants(c);
}

/**
 * The entitlements in `xml` (the blob's bytes as UTF-8; "" when they were not UTF-8), UNKNOWN when
 * the document is outside the subset read here. A document that is no XML at all has none.
 */
export function parseEntitlements(xml: string): string[] | Unknown {
  // Text before the first markup (or none at all) is no XML document: roxmltree fails on it.
  if (!xml.trimStart().startsWith("<")) return [];
  // Characters XML forbids, and carriage returns (normalized by XML parsers): left to YARA-X.
  // U+0085 and U+FEFF: Rust's trim and JavaScript's disagree on them.
  if (/[\x00-\x08\x0b-\x1f\x85\ufeff\ufffe\uffff]/.test(xml)) return UNKNOWN;
  let root: Element;
  try {
    const r = new XmlReader(xml);
    r.prolog();
    root = r.element(0);
    r.skipSpace();
    if (r.pos !== xml.length) return UNKNOWN;
  } catch (err) {
    if (err instanceof Unsupported || err instanceof RangeError) return UNKNOWN;
    throw err;
  }
  const out: string[] = [];
  for (const node of descendants(root)) {
    if (typeof node === "string" || (node.name !== "key" && node.name !== "array")) continue;
    const t = nodeText(node);
    if (t === undefined) continue;
    if (node.name === "key") {
      out.push(t);
      continue;
    }
    const seen = new Set<string>();
    for (const d of descendants(node)) {
      const x = nodeText(d);
      if (x === undefined || x.trim() === "" || seen.has(x)) continue;
      seen.add(x);
      out.push(x);
    }
  }
  return out;
}
