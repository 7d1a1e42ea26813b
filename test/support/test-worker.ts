// The shipped Worker plus TestRoom, for tests that need server-side handlers.
export * from "../../src/index";
export { default } from "../../src/index";
export { TestRoom } from "./test-room";
export { ConformanceRoom, EngineEchoRoom } from "../../src/apps/conformance";
export { SocketIOStyleRoom } from "./socketio-style-room";
export { LimitedRoom } from "./limited-room";
