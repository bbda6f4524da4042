// The `filetype` external variable of the LOKI/THOR convention (signature-base compares it with
// values such as "EXE", "ELF", "PDF"): a short name from the file's first bytes, or its extension
// for scripts that have no magic. "" when unknown.
import type { FileExternals } from "./yarax";

const MAGIC: [number[], string][] = [
  [[0x4d, 0x5a], "EXE"],
  [[0x7f, 0x45, 0x4c, 0x46], "ELF"],
  [[0xfe, 0xed, 0xfa, 0xce], "MACH-O"],
  [[0xfe, 0xed, 0xfa, 0xcf], "MACH-O"],
  [[0xce, 0xfa, 0xed, 0xfe], "MACH-O"],
  [[0xcf, 0xfa, 0xed, 0xfe], "MACH-O"],
  [[0xca, 0xfe, 0xba, 0xbe], "CLASS"], // also Mach-O fat; LOKI calls it a Java class
  [[0x25, 0x50, 0x44, 0x46], "PDF"],
  [[0x7b, 0x5c, 0x72, 0x74], "RTF"],
  [[0x50, 0x4b, 0x03, 0x04], "ZIP"],
  [[0x52, 0x61, 0x72, 0x21], "RAR"],
  [[0x37, 0x7a, 0xbc, 0xaf], "7Z"],
  [[0x1f, 0x8b], "GZIP"],
  [[0x42, 0x5a, 0x68], "BZIP2"],
  [[0xd0, 0xcf, 0x11, 0xe0], "MS Office"],
  [[0x47, 0x49, 0x46, 0x38], "GIF"],
  [[0x89, 0x50, 0x4e, 0x47], "PNG"],
  [[0xff, 0xd8, 0xff], "JPG"],
  [[0x4d, 0x44, 0x4d, 0x50], "MDMP"],
];

const BY_EXTENSION: Record<string, string> = {
  ".ps1": "PowerShell",
  ".psm1": "PowerShell",
  ".vbs": "VBS",
  ".bat": "BATCH",
  ".cmd": "BATCH",
  ".php": "PHP",
  ".jsp": "JSP",
  ".asp": "ASP",
  ".aspx": "ASP",
  ".py": "Python",
};

export function fileType(head: Uint8Array, extension: string): string {
  for (const [magic, name] of MAGIC) {
    if (head.length >= magic.length && magic.every((b, i) => head[i] === b)) return name;
  }
  return BY_EXTENSION[extension] ?? "";
}

/**
 * The LOKI/THOR file externals for bytes named `name` (a file's base name, or a member's last
 * part): the extension with its dot, lower case ("" for ".bashrc"), and the filetype from the
 * first bytes in `head`.
 */
export function fileExternals(name: string, filepath: string, owner: string, head: Uint8Array): FileExternals {
  const dot = name.lastIndexOf(".");
  const extension = dot > 0 ? name.slice(dot).toLowerCase() : "";
  return { filename: name, filepath, extension, filetype: fileType(head.subarray(0, 8), extension), owner };
}
