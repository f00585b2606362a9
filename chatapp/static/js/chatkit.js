// Small pieces shared by the chat pages (room.js) and the support thread (thread.js, console.js,
// widget.js): the message list item, times, Enter to send, typing both ways, acked requests.
// Text is always set with textContent, never as HTML.

export const ACK_TIMEOUT_MS = 8000;

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

// "14:05" for an ISO time (now when there is none).
export function formatTime(iso) {
  return timeFormat.format(iso ? new Date(iso) : new Date());
}

// Fill a <time>: machine-readable dateTime, the short time shown, the full date as its title.
export function stampTime(time, when) {
  time.dateTime = when.toISOString();
  time.textContent = timeFormat.format(when);
  time.title = fullFormat.format(when);
}

// Show the times the server rendered (in UTC) in the reader's own time zone and language.
export function localizeTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) stampTime(time, new Date(time.dateTime));
}

// socket.emitWithAck with a timeout; a timeout answers like an error ack.
export async function request(socket, event, payload) {
  try {
    return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  } catch {
    return { ok: false, error: "timeout", message: "The server did not answer in time." };
  }
}

// One message in a list: <li class="msg"> with .meta (.sender and <time>) and .body.
// The body is a div: the Markdown rendering put in later may hold paragraphs.
export function messageItem({ sender, own = false, body, createdAt }) {
  const li = document.createElement("li");
  li.className = "msg";
  if (own) li.classList.add("own");
  const meta = document.createElement("div");
  meta.className = "meta";
  const name = document.createElement("span");
  name.className = "sender";
  name.textContent = sender;
  const time = document.createElement("time");
  stampTime(time, createdAt ? new Date(createdAt) : new Date());
  meta.append(name, time);
  const text = document.createElement("div");
  text.className = "body";
  text.textContent = body; // text, never HTML
  li.append(meta, text);
  return li;
}

// The delivery badge in a message's .meta: "Sending…", "Sent", "Not sent: …".
export function setState(li, state, text) {
  let badge = li.querySelector(".state");
  if (!badge) {
    badge = document.createElement("span");
    badge.className = "state";
    li.querySelector(".meta").append(badge);
  }
  badge.dataset.state = state;
  badge.textContent = text;
  li.dataset.state = state;
}

// A refused message: "Not sent: reason", with Retry (back to "Sending…") and Discard (gone).
export function markFailed(li, reason, { onRetry, onDiscard }) {
  li.classList.add("failed");
  setState(li, "failed", `Not sent: ${reason}`);
  if (li.querySelector(".actions")) return;
  const actions = document.createElement("div");
  actions.className = "actions";
  const button = (label, onClick) => {
    const element = document.createElement("button");
    element.type = "button";
    element.textContent = label;
    element.addEventListener("click", onClick);
    return element;
  };
  const retry = button("Retry", () => {
    actions.remove();
    li.classList.remove("failed");
    setState(li, "sending", "Sending…");
    onRetry();
  });
  const discard = button("Discard", () => {
    li.remove();
    onDiscard();
  });
  actions.append(retry, discard);
  li.append(actions);
}

// The form's submit and Enter in the box send; Shift+Enter (or Enter while composing) is a newline.
export function bindEnterToSend(form, input, onSubmit) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    onSubmit();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      onSubmit();
    }
  });
}

// Tells the room "I am typing" while the box has text, and "stopped" after idleMs without typing
// (or on stop()). refreshMs: while the typing goes on, say so again this often (Infinity: once).
export class TypingSender {
  // socket: a socket, or a function returning the current one (or null, before there is one).
  constructor({ socket, idleMs = 3000, refreshMs = Infinity }) {
    this.socket = typeof socket === "function" ? socket : () => socket;
    this.idleMs = idleMs;
    this.refreshMs = refreshMs;
    this.timer = null;
    this.sent = false;
    this.sentAt = 0;
    this.room = null;
  }

  // On each input: typing into room, or (room null, or an empty box) stopped.
  watch(input, currentRoom) {
    input.addEventListener("input", () => {
      const room = currentRoom();
      if (!room || !input.value.trim()) this.stop();
      else this.typed(room);
    });
  }

  typed(room) {
    const socket = this.socket();
    const now = Date.now();
    if (socket?.connected && (!this.sent || now - this.sentAt >= this.refreshMs)) {
      this.sent = true;
      this.sentAt = now;
      this.room = room;
      socket.emit("typing", { room, typing: true }, () => {});
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.stop(), this.idleMs);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket();
    if (this.sent && socket?.connected) socket.emit("typing", { room: this.room, typing: false }, () => {});
    this.sent = false;
  }
}

// The "Alice is typing…" line: who is typing, each forgotten after shownMs without news.
// many: the text for three or more typers (null: all their names).
export class TypingDisplay {
  constructor(line, { shownMs = 6000, many = null } = {}) {
    this.line = line;
    this.shownMs = shownMs;
    this.many = many;
    this.typers = new Map(); // user id -> {name, timer}
  }

  // A "typing" event from the server about user.
  update(user, typing) {
    this.clear(user.id);
    if (typing) {
      this.typers.set(user.id, { name: user.display_name, timer: setTimeout(() => this.clear(user.id), this.shownMs) });
    }
    this.render();
  }

  clear(userId) {
    const typer = this.typers.get(userId);
    if (!typer) return;
    clearTimeout(typer.timer);
    this.typers.delete(userId);
    this.render();
  }

  clearAll() {
    for (const id of Array.from(this.typers.keys())) this.clear(id);
  }

  render() {
    const names = Array.from(this.typers.values(), (t) => t.name);
    if (names.length === 0) this.line.textContent = "";
    else if (names.length === 1) this.line.textContent = `${names[0]} is typing…`;
    else if (names.length > 2 && this.many) this.line.textContent = this.many;
    else this.line.textContent = `${names.join(" and ")} are typing…`;
  }
}
