/** A minimal chat page: nickname, room, messages with delivery receipts, typing indicator. */
export function chatPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Chat</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  #log { border: 1px solid #ccc; height: 22rem; overflow-y: auto; padding: .5rem; }
  #typing { color: #777; height: 1.4em; }
  .sys { color: #777; } form { display: flex; gap: .5rem; margin: .5rem 0; } input[name=text] { flex: 1; }
</style></head><body>
<h1>Chat</h1>
<form id="join"><input name="nick" placeholder="nickname" required><input name="room" value="general"><button>Join</button></form>
<div id="log"></div><div id="typing"></div>
<form id="send"><input name="text" autocomplete="off" placeholder="message"><button>Send</button></form>
<script src="/socket.io-client.js"></script>
<script>
  let socket, typingTimer;
  const log = (text, cls) => { const d = document.createElement("div"); d.textContent = text; if (cls) d.className = cls;
    const box = document.getElementById("log"); box.appendChild(d); box.scrollTop = box.scrollHeight; return d; };
  document.getElementById("join").onsubmit = (e) => {
    e.preventDefault(); const f = new FormData(e.target); if (socket) socket.disconnect();
    socket = io({ query: { room: f.get("room") }, auth: { nick: f.get("nick") } });
    socket.on("connect_error", (err) => log("cannot join: " + err.message, "sys"));
    socket.on("history", (messages) => messages.forEach((m) => log(m.from + ": " + m.text)));
    socket.on("message", (m) => log(m.from + ": " + m.text));
    socket.on("user joined", (nick) => log(nick + " joined", "sys"));
    socket.on("user left", (nick) => log(nick + " left", "sys"));
    socket.on("nick changed", (c) => log(c.from + " is now " + c.to, "sys"));
    socket.on("typing", (t) => { document.getElementById("typing").textContent = t.typing ? t.nick + " is typing…" : ""; });
  };
  const text = document.querySelector("#send input");
  text.oninput = () => { if (!socket) return; socket.emit("typing", true); clearTimeout(typingTimer);
    typingTimer = setTimeout(() => socket.emit("typing", false), 1500); };
  document.getElementById("send").onsubmit = (e) => {
    e.preventDefault(); if (!socket || !text.value) return;
    const line = log("me: " + text.value + " …"); const sent = text.value; text.value = ""; socket.emit("typing", false);
    socket.timeout(5000).emit("message", sent, (err, receipt) => { line.textContent = "me: " + sent + (err ? " (not delivered)" : " ✓ #" + receipt.id); });
  };
</script></body></html>`;
}
