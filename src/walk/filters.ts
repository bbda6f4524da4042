// --include / --exclude, as ripgrep and .gitignore users expect them: a pattern without a slash
// matches the base name at any depth; a pattern with a slash matches the path from the scan root.
import picomatch from "picomatch";

export interface Filters {
  /** True when a file at this root-relative path (or named path) is to be scanned. */
  file(rel: string): boolean;
  /** True when a folder at this root-relative path is excluded (it is not entered). */
  dirExcluded(rel: string): boolean;
}

function compile(globs: string[]): ((p: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  const matchers = globs.map((g) => {
    const glob = g.replace(/\\/g, "/").replace(/^\.\//, "");
    return picomatch(glob, { dot: true, basename: !glob.includes("/") });
  });
  return (p) => matchers.some((m) => m(p));
}

export function makeFilters(include: string[], exclude: string[]): Filters {
  const inc = compile(include);
  const exc = compile(exclude);
  const norm = (p: string) => p.replace(/\\/g, "/").replace(/^\.\//, "");
  return {
    file(rel) {
      const p = norm(rel);
      if (exc && exc(p)) return false;
      return inc ? inc(p) : true;
    },
    dirExcluded(rel) {
      if (!exc) return false;
      const p = norm(rel);
      return exc(p) || exc(`${p}/`);
    },
  };
}
