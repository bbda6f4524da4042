// `make conformance`: the slow differential runs (test/conformance/*.conf.ts), outside `make test`.
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

export default mergeConfig(base, defineConfig({ test: { include: ["test/conformance/**/*.conf.ts"], testTimeout: 3_600_000 } }));
