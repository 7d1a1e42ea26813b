/**
 * Entry module of the conformance Worker (wrangler.conformance.toml, `npm run dev:conformance`):
 * the shipped Worker with the rooms the protocol test suites expect. Not part of the production
 * Worker nor of the package.
 */
export { ConformanceRoom, EngineEchoRoom } from "./conformance";
export { default } from "../index";
