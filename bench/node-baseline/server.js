// The benchmark's baseline: the same room broadcast as chatapp, with nothing else.
//
// Events (the subset of docs/protocol.md the load generator uses):
//   join {room}                    -> ack {ok, room, messages: [], more: false}
//   send {room, body, client_id}   -> broadcast `message` to the room, then ack {ok, message}
// No persistence, no authentication, no rate limits, no presence. Message ids come
// from an in-memory counter. Serves on HOST:PORT (default 127.0.0.1:5100).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const host = process.env.HOST || "127.0.0.1";
const port = Number(process.env.PORT || 5100);

const httpServer = http.createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end('{"ok":true}');
    return;
  }
  res.writeHead(404);
  res.end();
});

// The same transport settings as chatapp's defaults (chatapp/config.py). Socket.IO's
// own default leaves permessage-deflate off, which is what chatapp now does by default.
const io = new Server(httpServer, {
  maxHttpBufferSize: 64 * 1024,
  pingInterval: 25000,
  pingTimeout: 20000,
  perMessageDeflate: process.env.PER_MESSAGE_DEFLATE === "1",
});

let nextId = 1;

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

io.on("connection", (socket) => {
  const user = { id: 1, username: "bench", display_name: "Bench", role: "member" };

  socket.on("join", (data, ack) => {
    if (typeof ack !== "function") return;
    if (!isObject(data) || typeof data.room !== "string") {
      ack({ ok: false, error: "invalid", message: "room is required." });
      return;
    }
    socket.join(`room:${data.room}`);
    ack({ ok: true, room: { slug: data.room, name: data.room, kind: "public" }, messages: [], more: false });
  });

  socket.on("send", (data, ack) => {
    if (typeof ack !== "function") return;
    if (!isObject(data) || typeof data.room !== "string" || typeof data.body !== "string") {
      ack({ ok: false, error: "invalid", message: "room and body are required." });
      return;
    }
    const message = {
      id: nextId++,
      room: data.room,
      sender: user,
      body: data.body,
      client_id: typeof data.client_id === "string" ? data.client_id : null,
      created_at: new Date().toISOString(),
    };
    io.to(`room:${data.room}`).emit("message", message);
    ack({ ok: true, message });
  });
});

httpServer.listen(port, host, () => {
  console.log(`node baseline serving on http://${host}:${port}`);
});

function shutdown() {
  io.close();
  httpServer.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
