/**
 * The Worker: socketio-edge's (Socket.IO endpoint at /socket.io/, REST API at /v1, demo page
 * at /), with PollRoom as the class of every room (bound as ROOMS in wrangler.toml).
 */
export { default } from "socketio-edge";
export { PollRoom } from "./poll-room";
