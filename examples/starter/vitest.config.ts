import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    environment: "node",
    // Starting the Worker in wrangler's local runtime takes a few seconds.
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
});
