// Small pieces shared by the chat pages (room.js, console.js, widget.js) and the delivery engine
// (delivery.js): the message list item, times, Enter to send, typing both ways, acked requests.
// Text is always set with textContent, never as HTML.

import { _, language } from "./i18n.js";

export const ACK_TIMEOUT_MS = 8000;

const MINUTE_MS = 60 * 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;
const RELATIVE_DAYS = 7; // a week on, a time reads as a date and no longer changes

// The formats, in the page's language (<html lang>, not the browser's), made once.
let formats = null;
function dateFormats() {
  if (!formats) {
    const lang = language();
    formats = {
      time: new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" }),
      weekday: new Intl.DateTimeFormat(lang, { weekday: "long" }),
      day: new Intl.DateTimeFormat(lang, { month: "short", day: "numeric" }),
      date: new Intl.DateTimeFormat(lang, { dateStyle: "medium" }),
      full: new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "medium" }),
      relative: new Intl.RelativeTimeFormat(lang, { numeric: "auto" }),
    };
  }
  return formats;
}

// "14:05" for an ISO time (now when there is none).
export function formatTime(iso) {
  return dateFormats().time.format(iso ? new Date(iso) : new Date());
}

function startOfDay(date) {
  const day = new Date(date);
  day.setHours(0, 0, 0, 0);
  return day.getTime();
}

// When, as the message list shows it: "just now", "5 minutes ago", "14:05" (today),
// "yesterday 14:05", "Monday 14:05" (this week), "Nov 3 14:05", "Nov 3, 2025" (another year).
export function relativeTime(when, now = new Date()) {
  const f = dateFormats();
  const ago = now - when;
  if (ago < MINUTE_MS) return _("just now"); // a clock a little ahead of ours included
  if (ago < 60 * MINUTE_MS) return f.relative.format(-Math.floor(ago / MINUTE_MS), "minute");
  const days = Math.round((startOfDay(now) - startOfDay(when)) / DAY_MS);
  const time = f.time.format(when);
  if (days <= 0) return time;
  if (days === 1) return _("{day} {time}", { day: f.relative.format(-1, "day"), time });
  if (days < RELATIVE_DAYS) return _("{day} {time}", { day: f.weekday.format(when), time });
  if (when.getFullYear() === now.getFullYear()) return _("{day} {time}", { day: f.day.format(when), time });
  return f.date.format(when);
}

// Fill a <time>: machine-readable dateTime, how long ago shown, the full date and time as its
// title. Times under a week old are marked data-relative: the page's one timer moves them on.
export function stampTime(time, when) {
  const now = new Date();
  const text = relativeTime(when, now);
  time.dateTime = when.toISOString();
  if (time.textContent !== text) time.textContent = text; // the log is a live region: no needless changes
  time.title = dateFormats().full.format(when);
  if (now - when < RELATIVE_DAYS * DAY_MS) {
    time.dataset.relative = "";
    startClock();
  } else {
    delete time.dataset.relative;
  }
}

// Show the times the server rendered (in UTC) in the reader's own time zone and language.
export function localizeTimes(root) {
  for (const time of root.querySelectorAll("time[datetime]")) stampTime(time, new Date(time.dateTime));
}

// One timer for the whole page: once a minute (and on coming back to the tab) every time still
// marked relative is stamped again; each drops out once a week old, so the work stays bounded.
let clock = null;
function startClock() {
  if (clock !== null) return;
  const refresh = () => {
    for (const time of document.querySelectorAll("time[data-relative]")) stampTime(time, new Date(time.dateTime));
  };
  clock = setInterval(refresh, MINUTE_MS);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) refresh();
  });
}

// socket.emitWithAck with a timeout; a timeout answers like an error ack.
export async function request(socket, event, payload) {
  try {
    return await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload);
  } catch {
    return { ok: false, error: "timeout", message: _("The server did not answer in time.") };
  }
}

// Changes to held messages made while the page was away (the join ack's `changed`), shown by the
// socket's own message_updated / message_deleted handlers, exactly as if they had come live.
export function replayChanges(socket, messages) {
  for (const message of messages) {
    const [event, payload] = message.deleted
      ? ["message_deleted", { room: message.room, id: message.id, by: message.deleted_by }]
      : ["message_updated", message];
    for (const handler of socket.listeners(event)) handler(payload);
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
  setState(li, "failed", _("Not sent: {reason}", { reason }));
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
  const retry = button(_("Retry"), () => {
    actions.remove();
    li.classList.remove("failed");
    setState(li, "sending", _("Sending…"));
    onRetry();
  });
  const discard = button(_("Discard"), () => {
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
    else if (names.length === 1) this.line.textContent = _("{name} is typing…", { name: names[0] });
    else if (names.length > 2 && this.many) this.line.textContent = this.many;
    else this.line.textContent = _("{names} are typing…", { names: new Intl.ListFormat(language()).format(names) });
  }
}
