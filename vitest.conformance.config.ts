// `make conformance`: the slow differential runs (test/conformance/*.conf.ts), outside `make test`.
// (mergeConfig would append to the base config's include list, so the base is spread instead.)
import { defineConfig } from "vitest/config";
import base from "./vitest.config";

export default defineConfig({ ...base, test: { ...base.test, include: ["test/conformance/**/*.conf.ts"], testTimeout: 3_600_000 } });
