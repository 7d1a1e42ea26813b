// Copies the browser build of socket.io-client next to the pages that load it
// (the copies are git-ignored). Runs on npm install. The Worker imports its copy
// as a Text module (hence .txt) and serves it at /socket.io-client.js; the chat
// example serves its copy as a static asset.
import { copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);
const source = join(dirname(require.resolve("socket.io-client/package.json")), "dist", "socket.io.min.js");
copyFileSync(source, join("public", "socket.io-client.txt"));
copyFileSync(source, join("examples/chat/public", "socket.io-client.js"));
