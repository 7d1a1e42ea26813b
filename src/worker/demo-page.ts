/** The page served at "/": a live room you can open in two tabs to watch the relay work. */
export function demoPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Socket.IO on Durable Objects</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.4rem; }
  form { display: flex; gap: .5rem; margin: .5rem 0; flex-wrap: wrap; }
  input, select, button { font: inherit; padding: .35rem .6rem; }
  input[name=text] { flex: 1; }
  #status { font-weight: 600; }
  #log { border: 1px solid #ccc; border-radius: 6px; height: 20rem; overflow-y: auto; padding: .5rem; background: #fafafa; }
  #log div { white-space: pre-wrap; }
  .sys { color: #777; }
  code { background: #f0f0f0; padding: 0 .25rem; }
</style>
</head>
<body>
<h1>Socket.IO on Durable Objects</h1>
<p>Each room is one Durable Object. Open this page in two tabs, join the same room, and send a message:
the room relays every client event to the other sockets of its namespace, and the sender's
acknowledgement says how many sockets received it.</p>
<form id="join">
  <label>Room <input name="room" value="lobby" size="12"></label>
  <label>Transport
    <select name="transports">
      <option value="polling,websocket">polling → websocket</option>
      <option value="websocket">websocket only</option>
      <option value="polling">polling only</option>
    </select>
  </label>
  <button>Join</button>
</form>
<p>Status: <span id="status">disconnected</span></p>
<form id="send">
  <input name="text" placeholder="Say something" autocomplete="off">
  <button>Send</button>
</form>
<div id="log"></div>
<p class="sys">Endpoints: <code>/socket.io/?room=NAME</code> for clients, <code>/health</code>.</p>
<script src="/socket.io-client.js"></script>
<script>
  const log = (text, cls) => {
    const line = document.createElement("div");
    line.textContent = text;
    if (cls) line.className = cls;
    const box = document.getElementById("log");
    box.appendChild(line);
    box.scrollTop = box.scrollHeight;
  };
  const status = document.getElementById("status");
  let socket = null;
  document.getElementById("join").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    if (socket) socket.disconnect();
    const room = String(form.get("room"));
    socket = io({ query: { room }, transports: String(form.get("transports")).split(",") });
    const showTransport = () => { status.textContent = "connected to room " + room + " over " + socket.io.engine.transport.name; };
    socket.on("connect", () => {
      showTransport();
      socket.io.engine.on("upgrade", showTransport);
      log("joined " + room + " as " + socket.id, "sys");
    });
    socket.on("disconnect", (reason) => { status.textContent = "disconnected (" + reason + ")"; });
    socket.on("connect_error", (err) => log("connect error: " + err.message, "sys"));
    socket.on("chat", (message) => log(message.from + ": " + message.text));
  });
  document.getElementById("send").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = event.target.elements.text;
    if (!socket || !socket.connected || !input.value) return;
    const text = input.value;
    input.value = "";
    socket.timeout(5000).emit("chat", { from: socket.id.slice(0, 6), text }, (err, ack) => {
      log("me: " + text + (err ? "  (no ack)" : "  (delivered to " + ack.delivered + ")"));
    });
  });
</script>
</body>
</html>`;
}
