// Replays every fuzz corpus input (test/fuzz/corpus/<target>/: the generated seeds and each input
// the fuzzer once found a crash, hang or blow-up with) through its target, as `make fuzz` runs it:
// each must return or throw only its parser's documented errors. A hang here fails by the test's
// timeout. This is the fuzzing's regression test in every `make test`.
import { describe, expect, it } from "vitest";
import { readCorpus } from "./corpus";
import { TARGETS } from "./targets";

describe.each(Object.keys(TARGETS))("fuzz corpus: %s", (name) => {
  const target = TARGETS[name]!;
  const inputs = readCorpus(name);

  it("has seeds", () => {
    expect(inputs.filter((i) => i.name.startsWith("seed-")).length).toBeGreaterThan(0);
  });

  it("every input is handled", async () => {
    await target.setup?.();
    const failures: string[] = [];
    for (const { name: file, data } of inputs) {
      await target.before?.();
      try {
        target.run(data);
      } catch (err) {
        if (!target.expected?.(err)) failures.push(`${file}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
