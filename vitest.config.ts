import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";


export default defineConfig({
  test: {
    reporters: ["default", "./test/support/summary-reporter.ts"],
    // The rooms' structured log lines (one per connect, disconnect, error) would bury the test output.
    onConsoleLog: (log) => !log.startsWith('{"event":'),
    projects: [
      {
        // Unit tests: run inside workerd, next to the Worker and its room objects.
        plugins: [
          cloudflareTest({
            // The shipped Worker plus a test room with server-side handlers.
            main: "./test/support/test-worker.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                PING_INTERVAL: "300",
                PING_TIMEOUT: "200",
                CONNECT_TIMEOUT: "1000",
                // REST API keys (test values; real ones are Worker secrets).
                API_KEY: "test-api-key",
                API_KEY_NEXT: "test-api-key-next",
              },
              durableObjects: {
                // SQLite-backed, as wrangler.toml declares it (the REST API keeps idempotency keys in SQL).
                ROOMS: { className: "RelayRoom", useSQLite: true },
                TEST_ROOMS: "TestRoom",
                SOCKETIO_STYLE_ROOMS: "SocketIOStyleRoom",
                ENGINE_ECHO: "EngineEchoRoom",
                CONFORMANCE_ROOMS: "ConformanceRoom",
                LIMITED_ROOMS: "LimitedRoom",
              },
            },
          }),
        ],
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          // A hang guard, not a time limit: tests that make a dozen requests took over 5 s on a busy 2-core machine.
          testTimeout: 15_000,
        },
      },
      {
        // End-to-end tests: start the Worker with wrangler and drive real clients over real sockets.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts", "examples/*/test/**/*.test.ts"],
          // The starter tests the packed package, in a project of its own (scripts/check-starter.mjs).
          exclude: ["examples/starter/**", "**/node_modules/**"],
          environment: "node",
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
