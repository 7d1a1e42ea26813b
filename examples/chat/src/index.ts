/** The chat example's Worker: the project's Worker, with ChatRoom as the room class. */
import { worker } from "../../../src/index";
import { chatPage } from "./page";

export { ChatRoom } from "./chat-room";

export default {
  fetch(request: Request, env: any, ctx: ExecutionContext): Response | Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/") return new Response(chatPage(), { headers: { "Content-Type": "text/html; charset=UTF-8" } });
    return worker.fetch(request, env, ctx);
  },
} satisfies ExportedHandler;
