// A conversation's message list and its delivery, shared by the support widget and the agent
// console: messages placed by id and never shown twice, own messages "Sending…" until acked,
// then "Sent"; a send with no answer retried with the same client_id; a refusal shown with
// Retry and Discard. Text is always set with textContent, never as HTML.
import { newClientId, retryDelay } from "./outbox.js";
import { markFailed, messageItem, request, setState } from "./chatkit.js";
import { arrangeMessages, watchMessages } from "./grouping.js";
import { _ } from "./i18n.js";

export class Thread {
  // list: the <ol role=log>; myId: whose messages are "own"; outbox: an Outbox;
  // names(message) -> the sender label; onChange(): called after the list changed.
  constructor({ list, myId, outbox, socket, names = (m) => m.sender.display_name, onChange = () => {} }) {
    this.list = list;
    this.myId = myId;
    this.outbox = outbox;
    this.socket = socket;
    this.names = names;
    this.onChange = onChange;
    this.room = null;
    this.retryTimers = new Map();
    watchMessages(list); // groups, day separators, avatars
  }

  // olderButton: shown while older messages exist above the first one shown.
  useOlderButton(button) {
    this.olderButton = button;
    button.addEventListener("click", () => this.loadOlder());
  }

  setOlder(more) {
    if (this.olderButton) this.olderButton.hidden = !more;
  }

  async loadOlder(limit = 50) {
    const ids = this.ids();
    if (!ids.length) return;
    const room = this.room;
    const button = this.olderButton;
    if (button) {
      button.disabled = true;
      button.textContent = _("Loading…");
    }
    const page = await request(this.socket, "history", { room, before: Math.min(...ids), limit });
    if (button) {
      button.disabled = false;
      button.textContent = _("Load older messages");
    }
    if (!page.ok || room !== this.room) return;
    const height = this.list.scrollHeight;
    this.renderAll(page.messages);
    arrangeMessages(this.list); // now: the separators count in the height
    this.list.scrollTop += this.list.scrollHeight - height; // keep the reader's place
    this.setOlder(page.more);
  }

  setRoom(room) {
    this.room = room;
    this.setOlder(false);
    for (const timer of this.retryTimers.values()) clearTimeout(timer);
    this.retryTimers.clear();
    this.list.replaceChildren();
    this.onChange();
  }

  ids() {
    return Array.from(this.list.querySelectorAll("li.msg[data-id]"), (li) => Number(li.dataset.id));
  }

  lastId() {
    const ids = this.ids();
    return ids.length ? Math.max(...ids) : 0;
  }

  build({ label, own, body, createdAt, internal }) {
    const li = messageItem({ sender: label, own, body, createdAt });
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

  // Put a stored message in its place by id; one already shown is never shown twice.
  render(message) {
    if (message.room !== this.room) return false;
    if (this.list.querySelector(`li.msg[data-id="${message.id}"]`)) return false;
    const own = message.sender.id === this.myId;
    let li = message.client_id && own ? this.pendingItem(message.client_id) : null;
    if (li) {
      li.classList.remove("pending", "failed");
      li.querySelector(".actions")?.remove();
      li.remove();
    } else {
      li = this.build({
        label: this.names(message),
        own,
        body: message.body,
        createdAt: message.created_at,
        internal: message.internal === true,
      });
    }
    li.dataset.id = String(message.id);
    li.dataset.senderId = String(message.sender.id);
    if (message.client_id) li.dataset.clientId = message.client_id;
    if (own) {
      setState(li, "sent", _("Sent"));
      if (message.client_id) {
        this.clearRetry(message.client_id);
        this.outbox.remove(message.client_id);
      }
    }
    const next = Array.from(this.list.querySelectorAll("li.msg")).find(
      (item) => item.classList.contains("pending") || (item.dataset.id && Number(item.dataset.id) > message.id),
    );
    this.list.insertBefore(li, next || null);
    this.onChange();
    return true;
  }

  renderAll(messages) {
    let added = 0;
    for (const message of [...messages].sort((a, b) => a.id - b.id)) if (this.render(message)) added += 1;
    return added;
  }

  scrollToEnd() {
    this.list.scrollTop = this.list.scrollHeight;
  }

  nearEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 120;
  }

  // ---- sending ----------------------------------------------------------------

  submit(body, extra = {}) {
    const entry = {
      client_id: newClientId(),
      room: this.room,
      body,
      created_at: new Date().toISOString(),
      attempts: 0,
      ...extra,
    };
    this.outbox.add(entry);
    this.renderPending(entry);
    this.scrollToEnd();
    this.attempt(entry);
    return entry;
  }

  renderPending(entry) {
    if (this.pendingItem(entry.client_id)) return;
    const li = this.build({ label: _("You"), own: true, body: entry.body, createdAt: entry.created_at, internal: entry.internal });
    li.classList.add("pending");
    li.dataset.clientId = entry.client_id;
    li.dataset.senderId = String(this.myId); // grouped with the own messages before it
    setState(li, "sending", _("Sending…"));
    this.list.append(li);
    this.onChange();
    if (entry.failed) this.showFailed(entry, entry.failed);
  }

  clearRetry(clientId) {
    clearTimeout(this.retryTimers.get(clientId));
    this.retryTimers.delete(clientId);
  }

  async attempt(entry) {
    this.clearRetry(entry.client_id);
    if (!this.socket.connected) return; // flushed again on connect
    const payload = { room: entry.room, body: entry.body, client_id: entry.client_id };
    if (entry.internal) payload.internal = true;
    const ack = await request(this.socket, "send", payload);
    if (ack.ok) {
      this.render(ack.message);
      return;
    }
    if (ack.error === "timeout") {
      // No answer: it may or may not be stored. The same client_id again, later.
      const attempts = (entry.attempts || 0) + 1;
      this.outbox.update(entry.client_id, { attempts });
      const next = { ...entry, attempts };
      this.retryTimers.set(entry.client_id, setTimeout(() => this.attempt(next), retryDelay(attempts)));
      return;
    }
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
        this.outbox.remove(entry.client_id);
        this.clearRetry(entry.client_id);
        this.onChange();
      },
    });
  }

  // After a (re)connect: show and re-send what this room still has unacked.
  flush() {
    for (const entry of this.outbox.forRoom(this.room)) {
      this.renderPending(entry);
      if (!entry.failed && !this.retryTimers.has(entry.client_id)) this.attempt(entry);
    }
  }

  // Join the room and fetch everything after the newest id held, paging until nothing is missing.
  async joinAndCatchUp() {
    const room = this.room;
    const after = this.lastId() || null;
    const ack = await request(this.socket, "join", after ? { room, after } : { room });
    if (!ack.ok || room !== this.room) return ack;
    this.renderAll(ack.messages);
    if (after === null) this.setOlder(ack.more);
    let more = ack.more && after !== null;
    while (more && room === this.room) {
      const page = await request(this.socket, "history", { room, after: this.lastId(), limit: 100 });
      if (!page.ok) break;
      this.renderAll(page.messages);
      more = page.more;
    }
    return ack;
  }
}
