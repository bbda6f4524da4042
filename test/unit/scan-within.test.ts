// The check that an opened file still lies inside the scan (src/scan/file.ts, outsideOf), both
// ways: Linux's /proc/self/fd and the portable one used elsewhere (realpath, then the same device
// and inode as the open descriptor), each run here on real folders swapped for links.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { outsideOf } from "../../src/scan/file";

const { O_RDONLY, O_NOFOLLOW = 0 } = fs.constants;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** root/sub/f.txt inside the scan, outside/f.txt beside the root. */
function layout() {
  const d = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "ring3-within-")));
  dirs.push(d);
  const root = path.join(d, "root");
  fs.mkdirSync(path.join(root, "sub"), { recursive: true });
  fs.mkdirSync(path.join(d, "outside"));
  const file = path.join(root, "sub", "f.txt");
  fs.writeFileSync(file, "inside");
  fs.writeFileSync(path.join(d, "outside", "f.txt"), "outside");
  const swap = () => {
    fs.renameSync(path.join(root, "sub"), path.join(d, "away"));
    fs.symlinkSync(path.join(d, "outside"), path.join(root, "sub"));
  };
  const swapBack = () => {
    fs.unlinkSync(path.join(root, "sub"));
    fs.renameSync(path.join(d, "away"), path.join(root, "sub"));
  };
  return { d, root, file, bytes: Buffer.from(file), within: Buffer.from(root), swap, swapBack };
}

function withOpen<T>(file: string, f: (fd: number) => T): T {
  const fd = fs.openSync(file, O_RDONLY | O_NOFOLLOW);
  try {
    return f(fd);
  } finally {
    fs.closeSync(fd);
  }
}

describe.each([
  ["/proc/self/fd", true],
  ["portable (realpath + inode)", false],
])("outsideOf, %s", (_, proc) => {
  it("a file inside the scan is read", () => {
    const s = layout();
    expect(withOpen(s.file, (fd) => outsideOf(fd, s.bytes, s.within, proc))).toBeUndefined();
  });

  it("a folder on the path swapped for a link out of the scan before the open: not read, and says where it leads", () => {
    const s = layout();
    s.swap();
    const why = withOpen(s.file, (fd) => outsideOf(fd, s.bytes, s.within, proc));
    expect(why).toBe(`replaced after listing: its path now leads out of the scan (to ${path.join(s.d, "outside", "f.txt")}); not read`);
  });

  it("swapped for the open, then swapped back before the check: not read", () => {
    const s = layout();
    s.swap();
    const why = withOpen(s.file, (fd) => {
      s.swapBack();
      return outsideOf(fd, s.bytes, s.within, proc);
    });
    // /proc names the file held; the portable check sees the path now naming another file.
    expect(why).toBe(
      proc && process.platform === "linux"
        ? `replaced after listing: its path now leads out of the scan (to ${path.join(s.d, "outside", "f.txt")}); not read`
        : "replaced while being opened: its path no longer names the file that was opened; not read",
    );
  });

  it("a file inside the scan replaced by another after the open: /proc still sees the one held (inside); the portable check cannot tell, so it is not read", () => {
    const s = layout();
    const why = withOpen(s.file, (fd) => {
      fs.renameSync(s.file, `${s.file}.old`);
      fs.writeFileSync(s.file, "new");
      return outsideOf(fd, s.bytes, s.within, proc);
    });
    if (proc && process.platform === "linux") expect(why).toBeUndefined();
    else expect(why).toBe("replaced while being opened: its path no longer names the file that was opened; not read");
  });
});
