// Microsoft's SARIF validator (Sarif.Multitool from the devDependency), shared by the unit tests
// of the SARIF sink and the end-to-end tests of the binary. A missing binary fails, never skips.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import { createRequire } from "node:module";
import * as path from "node:path";

/** Microsoft's SARIF validator from the devDependency; a missing binary fails the suite. */
export function multitool(): string {
  let bin: string;
  try {
    bin = createRequire(__filename)("@microsoft/sarif-multitool-linux") as string;
  } catch (e) {
    throw new Error(`@microsoft/sarif-multitool-linux is not installed (npm install): ${String(e)}`);
  }
  if (!fs.existsSync(bin)) throw new Error(`SARIF validator missing at ${bin}`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    // The package's postinstall does this; npm skips install scripts when they are not allowed.
    fs.chmodSync(bin, 0o755);
  }
  return bin;
}

export interface Diagnostic {
  file: string;
  level: string;
  rule: string;
  text: string;
}

/** Runs `Sarif.Multitool validate --rule-kind "Sarif;Gh"` over files and returns its findings. */
export function validate(files: string[]): Diagnostic[] {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "ring3-sarif-")), "validation.sarif");
  const run = spawnSync(
    multitool(),
    ["validate", "--rule-kind", "Sarif;Gh", "--level", "Error;Warning", "--log", "ForceOverwrite", "-o", out, ...files],
    { encoding: "utf8", env: { ...process.env, DOTNET_CLI_TELEMETRY_OPTOUT: "1" }, timeout: 120_000 },
  );
  if (!fs.existsSync(out)) {
    throw new Error(`validator produced no log (status ${run.status}): ${run.stdout}\n${run.stderr}`);
  }
  const log = JSON.parse(fs.readFileSync(out, "utf8"));
  const rules = log.runs[0].tool.driver.rules ?? [];
  return (log.runs[0].results ?? []).map((r: any) => {
    const rule = rules[r.ruleIndex] ?? {};
    const template: string = rule.messageStrings?.[r.message.id]?.text ?? r.message.text ?? "";
    return {
      file: r.locations?.[0]?.physicalLocation?.artifactLocation?.uri ?? "",
      level: r.level ?? "warning",
      rule: r.ruleId,
      text: template.replace(/\{(\d+)\}/g, (_m: string, i: string) => r.message.arguments?.[Number(i)] ?? ""),
    };
  });
}

