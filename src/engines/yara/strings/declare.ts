// A small reader of one string declaration's right-hand side (`"abc" wide nocase`, `{ 4D 5A ?? }`,
// `/ab+c/is fullword`) into a StringDecl. The matcher's tests and the measurement script use it to
// state cases in YARA's own syntax (the same text goes to YARA-X); the rule parser is parser.ts.
import type { HexToken, StringDecl, StringModifiers } from "../ast";

const POS = { line: 1, column: 1, offset: 0 };

export function declare(text: string, id = "$a"): StringDecl {
  let i = 0;
  const s = text.trim();
  const ws = () => {
    while (i < s.length && /\s/.test(s[i]!)) i++;
  };
  let decl: StringDecl;
  if (s[0] === '"') {
    const bytes: number[] = [];
    i = 1;
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\") {
        const e = s[i + 1]!;
        i += 2;
        if (e === "x") {
          bytes.push(parseInt(s.slice(i, i + 2), 16));
          i += 2;
        } else bytes.push(({ n: 10, t: 9, r: 13, "\\": 92, '"': 34 } as Record<string, number>)[e] ?? fail(`escape \\${e}`));
      } else {
        for (const b of Buffer.from(String.fromCodePoint(s.codePointAt(i)!), "utf8")) bytes.push(b);
        i += String.fromCodePoint(s.codePointAt(i)!).length;
      }
    }
    i++;
    decl = { kind: "text", id, pos: POS, modifiers: mods(), value: Uint8Array.from(bytes) };
  } else if (s[0] === "{") {
    const end = s.indexOf("}");
    decl = { kind: "hex", id, pos: POS, modifiers: mods(), tokens: hexTokens(s.slice(1, end)) };
    i = end + 1;
  } else if (s[0] === "/") {
    i = 1;
    while (i < s.length && s[i] !== "/") i += s[i] === "\\" ? 2 : 1;
    const source = s.slice(1, i);
    i++;
    let nocase = false;
    let dotAll = false;
    while (s[i] === "i" || s[i] === "s") {
      if (s[i] === "i") nocase = true;
      else dotAll = true;
      i++;
    }
    decl = { kind: "regex", id, pos: POS, modifiers: mods(), source, nocase, dotAll };
  } else return fail("not a string");

  // Modifiers after the literal.
  const m = decl.modifiers;
  for (;;) {
    ws();
    if (i >= s.length) break;
    const word = /^[a-z0-9]+/.exec(s.slice(i))![0];
    i += word.length;
    let arg: string | undefined;
    if (s[i] === "(") {
      const close = s.indexOf(")", i);
      arg = s.slice(i + 1, close).trim();
      i = close + 1;
    }
    switch (word) {
      case "nocase":
      case "ascii":
      case "wide":
      case "fullword":
      case "private":
        m[word] = true;
        break;
      case "xor": {
        if (arg === undefined) m.xor = { min: 0, max: 255 };
        else {
          const [lo, hi] = arg.split("-").map((x) => Number(x.trim()));
          m.xor = { min: lo!, max: hi ?? lo! };
        }
        break;
      }
      case "base64":
      case "base64wide":
        m[word] = { alphabet: arg === undefined ? undefined : JSON.parse(arg) };
        break;
      default:
        fail(`modifier ${word}`);
    }
  }
  return decl;
}

function mods(): StringModifiers {
  return { nocase: false, ascii: false, wide: false, fullword: false, private: false };
}

function fail(why: string): never {
  throw new Error(`declare: ${why}`);
}

export function hexTokens(src: string): HexToken[] {
  let i = 0;
  const s = src;
  function seq(): HexToken[] {
    const out: HexToken[] = [];
    for (;;) {
      while (i < s.length && /\s/.test(s[i]!)) i++;
      const c = s[i];
      if (c === undefined || c === "|" || c === ")") return out;
      if (c === "(") {
        i++;
        const alternatives = [seq()];
        while (s[i] === "|") {
          i++;
          alternatives.push(seq());
        }
        i++; // )
        out.push({ type: "alt", alternatives });
      } else if (c === "[") {
        const close = s.indexOf("]", i);
        const body = s.slice(i + 1, close).replace(/\s/g, "");
        i = close + 1;
        if (!body.includes("-")) out.push({ type: "jump", min: Number(body), max: Number(body) });
        else {
          const [lo, hi] = body.split("-");
          out.push({ type: "jump", min: lo ? Number(lo) : 0, max: hi ? Number(hi) : null });
        }
      } else {
        let not = false;
        if (c === "~") {
          not = true;
          i++;
        }
        const hi = s[i]!;
        const lo = s[i + 1]!;
        i += 2;
        const value = (hi === "?" ? 0 : parseInt(hi, 16) << 4) | (lo === "?" ? 0 : parseInt(lo, 16));
        const mask = (hi === "?" ? 0 : 0xf0) | (lo === "?" ? 0 : 0x0f);
        out.push({ type: "byte", value, mask, not });
      }
    }
  }
  return seq();
}
