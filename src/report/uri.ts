// File locations for SARIF: a result's path as a URI relative to %SRCROOT%, or as an absolute
// file:/// URI, percent-encoding the exact bytes of the name. Path arithmetic runs on "byte
// strings" (latin1, one char per byte) so names that are not valid UTF-8 survive unchanged; the
// path style (POSIX or Windows) follows the form of the scan's cwd, not the OS running the code.
import * as nodePath from "node:path";

export type PathStyle = "posix" | "win32";

export function pathStyleOf(cwd: string): PathStyle {
  return /^[A-Za-z]:[\\/]/.test(cwd) || /^[\\/]{2}[^\\/]/.test(cwd) ? "win32" : "posix";
}

/** A path's bytes, one char per byte: pathBytes when given (the exact name), else its UTF-8. */
export function byteString(path: string, pathBytes?: string): string {
  return (pathBytes !== undefined ? Buffer.from(pathBytes, "base64") : Buffer.from(path, "utf8")).toString(
    "latin1",
  );
}

/** Absolute, normalised byte-string path of `path` (a byte string) taken relative to `cwd`. */
export function resolveBytes(style: PathStyle, cwd: string, path: string): string {
  return nodePath[style].resolve(byteString(cwd), path);
}

export interface UriBase {
  style: PathStyle;
  /** Absolute directory, byte string. */
  dir: string;
  /** Its file URI, with the trailing slash SARIF wants for a base. */
  uri: string;
}

/** True when the absolute path `inner` is `outer` or lies below it. */
export function isWithin(style: PathStyle, outer: string, inner: string): boolean {
  const rel = nodePath[style].relative(outer, inner);
  return rel === "" || (!rel.startsWith("..") && !nodePath[style].isAbsolute(rel));
}

export function uriBase(style: PathStyle, dir: string): UriBase {
  const uri = fileUri(style, dir);
  return { style, dir, uri: uri.endsWith("/") ? uri : uri + "/" };
}

export interface ArtifactLocation {
  uri: string;
  uriBaseId?: string;
}

/** Relative to the base when the file lies inside it, else an absolute file URI. */
export function artifactLocation(abs: string, base: UriBase, baseId: string): ArtifactLocation {
  const p = nodePath[base.style];
  const rel = p.relative(base.dir, abs);
  const inside = rel !== "" && rel !== ".." && !rel.startsWith(".." + p.sep) && !p.isAbsolute(rel);
  if (!inside) return { uri: fileUri(base.style, abs) };
  const segments = base.style === "win32" ? rel.split("\\") : rel.split("/");
  return { uri: segments.map((s) => encodeSegment(s)).join("/"), uriBaseId: baseId };
}

/** file:///a/b, file:///C:/a/b, file://server/share/a for an absolute byte-string path. */
export function fileUri(style: PathStyle, abs: string): string {
  if (style === "posix") return "file://" + abs.split("/").map((s) => encodeSegment(s)).join("/");
  const slashed = abs.replace(/\\/g, "/");
  const unc = /^\/\/([^/]+)(\/.*)?$/.exec(slashed);
  if (unc !== null) {
    const rest = unc[2] ?? "/";
    return `file://${encodeSegment(unc[1]!)}${rest.split("/").map((s) => encodeSegment(s)).join("/")}`;
  }
  const drive = /^([A-Za-z]):(\/.*)?$/.exec(slashed);
  if (drive !== null) {
    const rest = drive[2] ?? "/";
    return `file:///${drive[1]!}:${rest.split("/").map((s) => encodeSegment(s)).join("/")}`;
  }
  return "file:///" + slashed.replace(/^\/+/, "").split("/").map((s) => encodeSegment(s)).join("/");
}

/**
 * Percent-encodes one path segment given as a byte string: every byte outside RFC 3986's
 * unreserved set, so spaces, '%', '#', '?', ':' and each byte of a non-ASCII name are escaped.
 */
export function encodeSegment(bytes: string): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes.charCodeAt(i);
    const unreserved =
      (b >= 0x41 && b <= 0x5a) ||
      (b >= 0x61 && b <= 0x7a) ||
      (b >= 0x30 && b <= 0x39) ||
      b === 0x2d ||
      b === 0x2e ||
      b === 0x5f ||
      b === 0x7e;
    out += unreserved ? bytes[i] : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

/** encodeSegment over a text's UTF-8 bytes (for rule ids built from rule and namespace names). */
export function encodeText(text: string): string {
  return encodeSegment(Buffer.from(text, "utf8").toString("latin1"));
}
