// Copies the browser build of socket.io-client next to the pages that load it
// (served as static assets; the copies are git-ignored). Runs on npm install.
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const source = join(dirname(require.resolve("socket.io-client/package.json")), "dist", "socket.io.min.js");
for (const target of ["public", "examples/chat/public"]) copyFileSync(source, join(target, "socket.io-client.js"));
