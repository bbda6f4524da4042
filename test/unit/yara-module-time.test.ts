// time.now() against YARA-X: the same clock, read at scan time, in whole seconds.
import { expect, test } from "vitest";
import { time } from "../../src/engines/yara/modules/time";
import { call, disagreements } from "./yara-module-oracle";

test("time.now() is the current Unix time in seconds, within a second of YARA-X's", () => {
  const before = BigInt(Math.floor(Date.now() / 1000));
  const now = call(time, new Uint8Array(0), "now", []).value as bigint;
  const after = BigInt(Math.floor(Date.now() / 1000));
  expect(now >= before && now <= after).toBe(true);
  const cases = [{ expr: `time.now() >= ${now} and time.now() <= ${now + 2n}`, value: true }];
  expect(disagreements(["time"], cases, new Uint8Array(0))).toEqual([]);
});
