/** The chat example's Worker: the project's Worker, with ChatRoom as the room class (the page is in public/). */
import { worker } from "../../../src/index";

export { ChatRoom } from "./chat-room";

export default worker;
