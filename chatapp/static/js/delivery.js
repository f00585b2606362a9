// The delivery engine (docs/protocol.md, "Delivery"): the one place the browser keeps the promise
// that no message is lost or shown twice. Every surface (the room page, the support widget, the
// agent console) opens its socket with openSocket() and hands its message list to a Delivery,
// adding only how it draws a message. The engine owns:
//   - the outbox, kept in localStorage across reloads, each entry re-sent with the same client_id
//     (exponential backoff with jitter) until the server acks it;
//   - refusals, shown "Not sent: reason" with Retry (same client_id) and Discard;
//   - placing stored messages by id, never showing an id twice, turning a pending copy into the
//     stored message when its ack or broadcast comes;
//   - catch-up after every (re)connect: join with `after` and `revision`, the changes replayed,
//     then history pages with `after` while `more`;
//   - replies: the quote each reply shows (replies.js), sent as `reply_to` and kept true when the
//     quoted message is edited or deleted;
//   - reconnecting: bounded backoff, and at once when the browser comes back online or the page
//     is shown again after sleep, instead of waiting for the next backoff step.
// Text is always set with textContent, never as HTML.
import { io } from "/vendor/socket.io.esm.min.js";
import { markFailed, messageItem, replayChanges, request, setState } from "./chatkit.js";
import { arrangeMessages, watchMessages } from "./grouping.js";
import { _ } from "./i18n.js";
import { noteExcerpt, refreshQuotes, renderQuote } from "./replies.js";

const OUTBOX_PREFIX = "chatapp.outbox.";
const NEAR_END_PX = 120;
const CATCH_UP_PAGE = 100;

// ---- the connection ------------------------------------------------------------------

// The page's one Socket.IO connection (auth: e.g. the widget's visitor token). socket.io-client
// reconnects by itself with bounded exponential backoff and jitter, so a server restart is not met
// by a storm; when the browser says the network is back, or the page is shown again (a laptop
// waking up, a tab restored), a connection that is down is retried at once, as Zulip's client does.
export function openSocket({ auth } = {}) {
  const socket = io({
    ...(auth ? { auth } : {}),
    reconnectionDelay: 1000,
    reconnectionDelayMax: 10000,
    randomizationFactor: 0.5,
  });
  window.chatapp = { socket }; // for tests and the curious: which transport is in use
  let down = false; // lost or never made, and socket.io-client is trying again
  socket.on("connect", () => { down = false; });
  socket.on("disconnect", () => { down = socket.active; });
  socket.on("connect_error", () => { down = socket.active; });
  const now = () => {
    // Not while the server refused us or closed the session (socket.active is false then):
    // that needs a reload or a new login, not another try.
    if (!down || socket.connected || !socket.active) return;
    down = false;
    socket.disconnect().connect(); // drops the pending backoff step; a failure starts it afresh
  };
  window.addEventListener("online", now);
  window.addEventListener("pageshow", (event) => { if (event.persisted) now(); });
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") now(); });
  return socket;
}

// The connection status a logged-in page shows: show(state, text), state "online",
// "reconnecting" or "offline" (only a reload or a new login helps then).
export function watchConnection(socket, show) {
  socket.on("connect", () => show("online", _("Connected")));
  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") show("offline", _("Disconnected by the server. Reload the page or log in again."));
    else show("reconnecting", _("Connection lost. Reconnecting…"));
  });
  socket.on("connect_error", (error) => {
    const reason = error?.data?.message || _("The server refused the connection.");
    if (!socket.active) show("offline", _("{reason} Reload the page to try again.", { reason }));
    else show("reconnecting", _("Cannot reach the server. Reconnecting…"));
  });
}

// ---- the outbox --------------------------------------------------------------------

// Own messages not yet acked, per account, in localStorage so that they survive a reload. The
// server stores a client_id once, so re-sending an entry can never double a message.
export class Outbox {
  constructor(userId) {
    this.key = OUTBOX_PREFIX + userId;
  }

  load() {
    try {
      const entries = JSON.parse(localStorage.getItem(this.key) || "[]");
      return Array.isArray(entries) ? entries : [];
    } catch {
      return [];
    }
  }

  save(entries) {
    try {
      localStorage.setItem(this.key, JSON.stringify(entries));
    } catch {
      // Storage full or blocked: the message still goes out, it just won't survive a reload.
    }
  }

  forRoom(room) {
    return this.load().filter((entry) => entry.room === room);
  }

  add(entry) {
    const entries = this.load().filter((e) => e.client_id !== entry.client_id);
    entries.push(entry);
    this.save(entries);
  }

  update(clientId, changes) {
    this.save(this.load().map((e) => (e.client_id === clientId ? { ...e, ...changes } : e)));
  }

  remove(clientId) {
    this.save(this.load().filter((e) => e.client_id !== clientId));
  }
}

// Delay before the next try: exponential, capped, with jitter so that many clients
// coming back from one outage do not all retry at the same instant.
export function retryDelay(attempt, { base = 1000, max = 15000 } = {}) {
  const ceiling = Math.min(max, base * 2 ** Math.min(attempt, 10));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// The longest body the server takes, as the page says it (the message box's maxlength).
export function bodyLimit(input) {
  return input.maxLength > 0 ? input.maxLength : Infinity;
}

// ---- one conversation's messages and their delivery ------------------------------------

// What a surface tells the engine about drawing (every hook optional):
//   label(message)          the sender's name as shown (default: display_name)
//   placed(li, message)     a stored message was just put in the list (decorate it)
//   pending(li, entry)      an own unsent message was just put in the list
//   payload(entry)          the send's fields beyond room, body and client_id
//   sent(ack), refused(ack) after an ok / error answer to a send
//   joined(ack)             after a join's messages are placed, before its changes are replayed
//   updated(message)        message_updated of this room (live, or replayed by a catch-up)
//   adopted(li, message)    an item shown as another's turned out to be one's own (an anonymous question)
//   deleted({id, by})       message_deleted of this room (likewise)
//   changed()               the list changed (empty note, layout)
//   older(more)             whether older messages exist above the first one held
export class Delivery {
  // heldAll: the page came with every message up to its newest (the server-rendered room page), so
  // an empty list means an empty room and the catch-up asks for everything after 0. Otherwise an
  // empty list joins for the latest page and older ones come on request.
  // receiptFrom(receipt): whether a read receipt is the other side's (default: anybody but me; a
  // conversation's sides are the visitor and the staff).
  constructor({
    socket, list, myId, room = null, revision = null, heldAll = false, view = {},
    receiptFrom = (receipt) => receipt.user_id !== myId,
  }) {
    this.socket = socket;
    this.list = list;
    this.myId = myId;
    this.room = room;
    this.revision = revision; // the room revision the held messages are current to
    this.heldAll = heldAll;
    this.view = view;
    this.receiptFrom = receiptFrom;
    this.receipts = false; // the join ack says whether this room takes receipts (direct rooms, conversations)
    this.deliveredUpTo = 0; // how far the other side's devices have received
    this.readUpTo = 0; // how far the other side has read
    this.deliveredSent = 0; // how far this client told the server it has received
    this.deliveredTimer = null;
    this.outbox = new Outbox(myId);
    this.retryTimers = new Map(); // client_id -> timeout id
    this.caughtUpOn = null; // the id of the connection whose catch-up finished last (tests wait for it)
    window.chatapp = { ...window.chatapp, delivery: this }; // for tests and the curious
    watchMessages(list); // groups, day separators, avatars: now and after every change
    // Live and in catch-up's replayed changes: the quotes of an edited or deleted message follow it.
    // The surface hears of both through its updated and deleted hooks (reactions, say).
    socket.on("message_updated", (message) => {
      if (message.room !== this.room) return;
      refreshQuotes(list, message);
      const li = list.querySelector(`li.msg[data-id="${message.id}"]`);
      if (li) noteExcerpt(li, message);
      this.hook("updated", message);
    });
    socket.on("message_deleted", (deleted) => {
      if (deleted.room !== this.room) return;
      refreshQuotes(list, { id: deleted.id, deleted: true });
      this.hook("deleted", deleted);
    });
    socket.on("read_receipt", (receipt) => {
      if (receipt.room === this.room && this.receiptFrom(receipt)) this.markReceipt(receipt);
    });
  }

  hook(name, ...args) {
    return this.view[name]?.(...args);
  }

  // Another conversation in the same list (the console): nothing of the last one stays.
  setRoom(room) {
    this.room = room;
    this.revision = null;
    this.receipts = false;
    this.deliveredUpTo = 0;
    this.readUpTo = 0;
    this.deliveredSent = 0;
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.list.replaceChildren();
    this.hook("older", false);
    this.hook("changed");
  }

  // ---- the list ----------------------------------------------------------------------

  ids() {
    return Array.from(this.list.querySelectorAll("li.msg[data-id]"), (li) => Number(li.dataset.id));
  }

  lastId() {
    const ids = this.ids();
    return ids.length ? Math.max(...ids) : 0;
  }

  firstId() {
    const ids = this.ids();
    return ids.length ? Math.min(...ids) : null;
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < NEAR_END_PX;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  label(message) {
    return this.view.label ? this.view.label(message) : message.sender.display_name;
  }

  build({ label, senderId, body, createdAt, internal, bot = false, replyTo = null }) {
    const li = messageItem({ sender: label, own: senderId === this.myId, body, createdAt });
    renderQuote(li, replyTo);
    li.dataset.senderId = String(senderId); // grouped with the same sender's messages around it
    if (bot) {
      // USER carries "bot": true for an integration's account (docs/protocol.md): say so beside its name.
      const mark = document.createElement("span");
      mark.className = "mark bot-mark";
      mark.textContent = _("Bot");
      li.querySelector(".meta .sender").after(mark);
    }
    if (internal) {
      li.classList.add("note");
      const tag = document.createElement("span");
      tag.className = "note-tag";
      tag.textContent = _("Internal note");
      li.querySelector(".meta").append(tag);
    }
    return li;
  }

  pendingItem(clientId) {
    return this.list.querySelector(`li.msg.pending[data-client-id="${CSS.escape(clientId)}"]`);
  }

  // The own message with this client_id already confirmed in the list (rendered by the server or
  // placed after an earlier ack), if any.
  confirmedOwnItem(clientId) {
    return this.list.querySelector(
      `li.msg[data-id][data-sender-id="${this.myId}"][data-client-id="${CSS.escape(clientId)}"]:not(.pending)`,
    );
  }

  // Forget an outbox entry the server has stored: no more retries, no pending copy.
  settle(clientId) {
    this.clearRetry(clientId);
    this.outbox.remove(clientId);
  }

  // Put a stored message in its place by id; an id already shown is never shown again.
  // Returns whether it was newly placed.
  render(message) {
    if (message.room !== this.room) return false;
    const own = message.sender.id === this.myId;
    const shown = this.list.querySelector(`li.msg[data-id="${message.id}"]`);
    if (shown) {
      // Already shown (say the reloaded page's HTML had it, and the ack of a retry came later):
      // a pending copy must go, or the page shows it twice, one copy stuck at "Sending…".
      if (own && message.client_id) {
        // An anonymous question reaches the room (its author too) without its author before the
        // ack: the item shown is this sender's own after all.
        if (!shown.querySelector(".state") && this.pendingItem(message.client_id)) this.adopt(shown, message);
        this.pendingItem(message.client_id)?.remove();
        this.settle(message.client_id);
      }
      return false;
    }
    let li = own && message.client_id ? this.pendingItem(message.client_id) : null;
    if (li) {
      li.classList.remove("pending", "failed");
      li.querySelector(".actions")?.remove();
      li.querySelector(".sender").textContent = this.label(message); // as the server renders it
      renderQuote(li, message.reply_to); // the quote as the server stored it
      li.remove();
    } else {
      li = this.build({
        label: this.label(message),
        senderId: message.sender.id,
        body: message.body,
        createdAt: message.created_at,
        internal: message.internal === true,
        bot: message.sender.bot === true,
        replyTo: message.reply_to,
      });
    }
    li.dataset.id = String(message.id);
    if (message.client_id) li.dataset.clientId = message.client_id;
    noteExcerpt(li, message);
    if (own) {
      this.showReceipt(li, message.id);
      if (message.client_id) this.settle(message.client_id);
    } else {
      this.received(message.id);
    }
    // Stored messages sit in id order, before any still-pending ones.
    const next = Array.from(this.list.querySelectorAll("li.msg")).find(
      (item) => item.classList.contains("pending") || (item.dataset.id && Number(item.dataset.id) > message.id),
    );
    this.list.insertBefore(li, next || null);
    this.hook("placed", li, message);
    this.hook("changed");
    return true;
  }

  renderAll(messages) {
    let added = 0;
    for (const message of [...messages].sort((a, b) => a.id - b.id)) if (this.render(message)) added += 1;
    return added;
  }

  // ---- receipts (direct rooms, conversations: services/receipts.py) ---------------------

  // An own stored message's state: Sent, Delivered (the other side's devices have it) or Read.
  // An item placed as someone else's that the ack shows is this sender's own: mark it so.
  adopt(li, message) {
    li.classList.add("own");
    li.dataset.senderId = String(this.myId);
    li.dataset.clientId = message.client_id;
    this.showReceipt(li, message.id);
    this.hook("adopted", li, message);
  }

  showReceipt(li, id) {
    if (li.classList.contains("note")) setState(li, "sent", _("Sent")); // staff notes never reach the other side
    else if (id <= this.readUpTo) setState(li, "read", _("Read"));
    else if (id <= this.deliveredUpTo) setState(li, "delivered", _("Delivered"));
    else setState(li, "sent", _("Sent"));
  }

  // The other side's positions moved (a `read_receipt`, or the join ack's read_positions): own
  // messages up to them say Delivered or Read. A last_read_id of null: that person shares no reads.
  markReceipt({ delivered_id: delivered = 0, last_read_id: read = null }) {
    this.readUpTo = Math.max(this.readUpTo, read ?? 0);
    this.deliveredUpTo = Math.max(this.deliveredUpTo, delivered ?? 0, this.readUpTo);
    for (const li of this.list.querySelectorAll("li.msg.own[data-id]")) {
      const state = li.querySelector(".state")?.dataset.state;
      if (state === "sent" || state === "delivered") this.showReceipt(li, Number(li.dataset.id));
    }
  }

  // Someone else's message reached this page live: tell the server (once for a burst), so that
  // its sender sees Delivered. The join itself counts as received up to the newest message.
  received(id) {
    if (!this.receipts || id <= this.deliveredSent || this.deliveredTimer) return;
    this.deliveredTimer = setTimeout(() => {
      this.deliveredTimer = null;
      const newest = this.lastId();
      if (!this.receipts || newest <= this.deliveredSent) return;
      this.deliveredSent = newest;
      request(this.socket, "delivered", { room: this.room, last_id: newest });
    }, 250);
  }

  // ---- sending -----------------------------------------------------------------------

  // A new own message: into the outbox, shown "Sending…", sent. extra: kept with the entry
  // (the surface's payload() turns it into the send's fields).
  submit(body, extra = {}) {
    const entry = { client_id: newClientId(), room: this.room, body, created_at: new Date().toISOString(), attempts: 0, ...extra };
    this.outbox.add(entry);
    this.renderPending(entry);
    this.scrollToEnd();
    this.attempt(entry);
    return entry;
  }

  // Show an outbox entry as pending; false if the list shows it stored already.
  renderPending(entry) {
    if (this.confirmedOwnItem(entry.client_id)) {
      // Stored already (its ack was lost, then the page was reloaded): nothing left to send.
      this.pendingItem(entry.client_id)?.remove();
      this.settle(entry.client_id);
      return false;
    }
    if (this.pendingItem(entry.client_id)) return true;
    const li = this.build({
      label: _("You"), senderId: this.myId, body: entry.body, createdAt: entry.created_at, internal: entry.internal,
      replyTo: entry.reply_to,
    });
    li.classList.add("pending");
    li.dataset.clientId = entry.client_id;
    setState(li, "sending", _("Sending…"));
    this.hook("pending", li, entry);
    this.list.append(li);
    this.hook("changed");
    if (entry.failed) this.showFailed(entry, entry.failed);
    return true;
  }

  clearRetry(clientId) {
    clearTimeout(this.retryTimers.get(clientId));
    this.retryTimers.delete(clientId);
  }

  async attempt(entry) {
    this.clearRetry(entry.client_id);
    if (!this.socket.connected) return; // flushed again on connect
    const payload = { room: entry.room, body: entry.body, client_id: entry.client_id, ...this.hook("payload", entry) };
    if (entry.reply_to) payload.reply_to = entry.reply_to.id;
    const ack = await request(this.socket, "send", payload);
    if (ack.ok) {
      this.render(ack.message);
      this.hook("sent", ack);
      return;
    }
    if (ack.error === "timeout") {
      // No answer: the message may or may not be stored. The same client_id again, later.
      const attempts = (entry.attempts || 0) + 1;
      this.outbox.update(entry.client_id, { attempts });
      const next = { ...entry, attempts };
      this.retryTimers.set(entry.client_id, setTimeout(() => this.attempt(next), retryDelay(attempts)));
      return;
    }
    // The server said no: show why, and let the person decide.
    this.hook("refused", ack);
    this.outbox.update(entry.client_id, { failed: ack.message });
    this.showFailed(entry, ack.message);
  }

  showFailed(entry, reason) {
    const li = this.pendingItem(entry.client_id);
    if (!li) return;
    markFailed(li, reason, {
      onRetry: () => {
        this.outbox.update(entry.client_id, { failed: null, attempts: 0 });
        this.attempt({ ...entry, failed: null, attempts: 0 });
      },
      onDiscard: () => {
        this.settle(entry.client_id);
        this.hook("changed");
      },
    });
  }

  // Show the room's unacked messages (on load, before the connection is up).
  showOutbox() {
    for (const entry of this.outbox.forRoom(this.room)) this.renderPending(entry);
  }

  // After a (re)connect: show and re-send what this room still has unacked.
  flush() {
    for (const entry of this.outbox.forRoom(this.room)) {
      if (this.renderPending(entry) && !entry.failed && !this.retryTimers.has(entry.client_id)) this.attempt(entry);
    }
  }

  // ---- catching up ---------------------------------------------------------------------

  // Join the room and fetch what was missed: everything stored after the newest id held, and what
  // changed meanwhile (edits, deletions, pins, answers) among the messages held. Then re-send the
  // outbox. Answers the join's ack.
  async joinAndCatchUp() {
    const room = this.room;
    const ack = await this.catchUp();
    if (room === this.room) this.flush();
    return ack;
  }

  async catchUp() {
    const room = this.room;
    const after = this.lastId();
    const fresh = !after && !this.heldAll; // nothing held: the latest page
    const payload = fresh ? { room } : { room, after };
    if (!fresh && this.revision !== null) payload.revision = this.revision;
    const ack = await request(this.socket, "join", payload);
    if (!ack.ok || room !== this.room) return ack;
    this.receipts = ack.receipts === true;
    // The join told the server this page holds everything up to the newest message.
    this.deliveredSent = Math.max(this.deliveredSent, ...ack.messages.map((message) => message.id));
    this.renderAll(ack.messages);
    for (const position of ack.read_positions || []) {
      if (this.receiptFrom(position)) this.markReceipt(position);
    }
    this.hook("joined", ack);
    replayChanges(this.socket, ack.changed || []);
    this.revision = ack.revision ?? this.revision;
    if (ack.changed_more) return this.catchUp(); // more changes than one answer holds: the rest
    if (fresh) {
      this.hook("older", ack.more);
      this.caughtUpOn = this.socket.id;
      return ack;
    }
    // Page forward from the last message of the previous page, not from the newest in the list:
    // live messages arrive while we page, and starting after one of them would skip the rest.
    let cursor = ack.messages.length ? ack.messages[ack.messages.length - 1].id : null;
    let more = ack.more;
    while (more && cursor !== null && room === this.room) {
      const page = await request(this.socket, "history", { room, after: cursor, limit: CATCH_UP_PAGE });
      if (!page.ok) break;
      this.renderAll(page.messages);
      cursor = page.messages.length ? page.messages[page.messages.length - 1].id : null;
      more = page.more;
    }
    if (room === this.room) this.caughtUpOn = this.socket.id;
    return ack;
  }

  // "Load older messages": the page before the first one held, the reader's place kept.
  // Answers the history ack (an error ack for the surface to show).
  async loadOlder(button, limit = 50) {
    const before = this.firstId();
    if (before === null) return { ok: true };
    const room = this.room;
    button.disabled = true;
    button.textContent = _("Loading…");
    const page = await request(this.socket, "history", { room, before, limit });
    button.disabled = false;
    button.textContent = _("Load older messages");
    if (!page.ok || room !== this.room) return page;
    const height = this.list.scrollHeight;
    this.renderAll(page.messages);
    arrangeMessages(this.list); // now, not after this task: the separators count in the height
    this.list.scrollTop += this.list.scrollHeight - height;
    this.hook("older", page.more);
    return page;
  }
}
