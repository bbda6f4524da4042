// The `time` module: now(), the whole seconds since the Unix epoch when the rule is evaluated (YARA-X
// reads the clock at each call, so two engines agree up to the second boundary between them).
import { UNKNOWN, type ModuleFactory, type StructValue } from "../contracts";
import { func, struct } from "./util";

const TIME: StructValue = struct({
  now: func((a) => (a.length === 0 ? BigInt(Math.floor(Date.now() / 1000)) : UNKNOWN)),
});

export const time: ModuleFactory = { name: "time", load: () => TIME };
