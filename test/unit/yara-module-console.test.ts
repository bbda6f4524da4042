// console.log and console.hex against YARA-X: true for every accepted argument form, undefined when
// an argument is undefined.
import { expect, test } from "vitest";
import { console as consoleModule } from "../../src/engines/yara/modules/console";
import { call, disagreements, text } from "./yara-module-oracle";
import { bytesSource } from "../../src/util/bytesource";

test("every form of log and hex is true", () => {
  const d = new Uint8Array(0);
  const cases = [
    call(consoleModule, d, "log", [text("foo")]),
    call(consoleModule, d, "log", [text("bar: "), 1n]),
    call(consoleModule, d, "log", [text("baz: "), 3.14]),
    call(consoleModule, d, "log", [text("qux: "), text("x")]),
    call(consoleModule, d, "log", [10n]),
    call(consoleModule, d, "log", [6.28]),
    call(consoleModule, d, "hex", [10n]),
    call(consoleModule, d, "hex", [text("qux: "), 255n]),
  ];
  for (const c of cases) expect(c.value, c.expr).toBe(true);
  expect(disagreements(["console"], cases, d)).toEqual([]);
});

test("an undefined argument makes the call undefined, in YARA-X as here", () => {
  const log = consoleModule.load(bytesSource(new Uint8Array(0))).field("log") as { kind: "func"; call(a: unknown[]): unknown };
  expect(log.call([undefined])).toBeUndefined();
  expect(disagreements(["console", "elf"], [{ expr: "console.log(elf.type)", value: undefined }], text("not an elf"))).toEqual([]);
});
