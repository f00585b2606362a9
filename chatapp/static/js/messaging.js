// Messaging on the room page: Markdown bodies, pictures, "edited" marks and editing one's own
// messages, @mention highlights and notices, the read position and the tab title's count.
import { TitleCounter, mentionText, notifyMention, setUpNotifyButton } from "./notify.js";
import { _, language } from "./i18n.js";
import { fileSize } from "./uploads.js";

// One `read` per second at most while messages keep coming: each is a database write.
const READ_DELAY_MS = 1000;
const AT_END_PX = 40;

const fullFormat = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" });

export class Messaging {
  // maxBody: the longest body the server takes (an edit too), as the page says it.
  constructor({ socket, request, root, roomSlug, myId, list, maxBody }) {
    this.maxBody = maxBody;
    this.socket = socket;
    this.request = request;
    this.root = root;
    this.roomSlug = roomSlug;
    this.myId = myId;
    this.list = list;
    const windowSeconds = Number(root.dataset.editWindow || 0);
    this.editWindowMs = windowSeconds > 0 ? windowSeconds * 1000 : Infinity;
    this.sources = new Map(); // message id -> its body as typed (the Markdown source), for editing
    this.title = new TitleCounter();
    this.readSent = 0;
    this.readTimer = null;

    socket.on("message_updated", (message) => this.updated(message));
    socket.on("mention", (notice) => this.mentioned(notice));
    socket.on("message", (message) => this.arrived(message));
    list.addEventListener("scroll", () => this.scheduleRead(), { passive: true });
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) {
        this.title.set(0);
        this.scheduleRead();
      }
    });
    setUpNotifyButton(document.getElementById("notify-toggle"));
    this.toast = makeToast();
    // People who join the member list while the page is open can be written to as well.
    const members = document.getElementById("members");
    if (members && !root.dataset.direct) {
      const offer = () => members.querySelectorAll("li[data-user-id]").forEach((li) => this.addMessageButton(li));
      new MutationObserver(offer).observe(members, { childList: true });
      offer();
    }
    // Messages the server rendered: their HTML is there already; own ones get an Edit button.
    for (const li of list.querySelectorAll("li.msg[data-id]")) {
      if (li.dataset.source !== undefined) this.sources.set(Number(li.dataset.id), li.dataset.source);
      this.addEditButton(li);
    }
  }

  // ---- rendering -------------------------------------------------------------

  // Bring a message's item up to date with MESSAGE: body, pictures, edited mark, mention, Edit.
  decorate(li, message) {
    if (message.deleted) {
      li.querySelector(".edit-button")?.remove();
      li.querySelector(".attachments")?.remove();
      return;
    }
    this.sources.set(message.id, message.body);
    const body = li.querySelector(".body");
    if (body && typeof message.html === "string" && !li.classList.contains("editing")) {
      body.classList.add("md");
      // message.html was rendered from the safe Markdown subset and sanitized by nh3 on the
      // server (markup.py): the only place this page puts HTML into the DOM.
      body.innerHTML = message.html;
    }
    renderAttachments(li, message.attachments || []);
    setEdited(li, message.edited_at);
    li.classList.toggle("mentioned", (message.mentions || []).includes(this.myId));
    this.addEditButton(li);
  }

  // A pending (not yet acked) own message: show the pictures it carries.
  decoratePending(li, entry) {
    renderAttachments(li, entry.attachments || []);
  }

  updated(message) {
    if (message.room !== this.roomSlug) return;
    const li = this.list.querySelector(`li.msg[data-id="${message.id}"]`);
    if (li) this.decorate(li, message);
  }

  // ---- editing ---------------------------------------------------------------

  canEdit(li) {
    if (Number(li.dataset.senderId) !== this.myId || !li.dataset.id || li.classList.contains("deleted")) return false;
    const sent = Date.parse(li.querySelector("time")?.dateTime || "");
    return Number.isFinite(sent) && Date.now() - sent < this.editWindowMs;
  }

  addEditButton(li) {
    const existing = li.querySelector(".edit-button");
    if (!this.canEdit(li)) {
      existing?.remove();
      return;
    }
    if (existing) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link edit-button";
    button.textContent = _("Edit");
    button.setAttribute("aria-label", _("Edit message"));
    button.addEventListener("click", () => this.startEdit(li));
    li.querySelector(".meta").append(button);
    // The window closes while the page is open: the button goes when it does.
    const sent = Date.parse(li.querySelector("time").dateTime);
    const left = sent + this.editWindowMs - Date.now();
    if (Number.isFinite(left) && left < 2 ** 31) setTimeout(() => this.addEditButton(li), left + 1000);
  }

  startEdit(li) {
    if (li.classList.contains("editing")) return;
    const id = Number(li.dataset.id);
    const body = li.querySelector(".body");
    li.classList.add("editing");
    const form = document.createElement("form");
    form.className = "edit-form";
    const box = document.createElement("textarea");
    box.setAttribute("aria-label", _("Edit message"));
    if (Number.isFinite(this.maxBody)) box.maxLength = this.maxBody;
    box.value = this.sources.get(id) ?? body.textContent;
    const fit = () => { box.rows = Math.min(10, Math.max(2, box.value.split("\n").length + 1)); };
    fit();
    box.addEventListener("input", fit);
    const save = document.createElement("button");
    save.type = "submit";
    save.className = "primary";
    save.textContent = _("Save");
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.textContent = _("Cancel");
    const error = document.createElement("p");
    error.className = "field-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    const buttons = document.createElement("div");
    buttons.className = "edit-buttons";
    buttons.append(save, cancel);
    form.append(box, buttons, error);
    body.hidden = true;
    body.after(form);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);

    const finish = () => {
      form.remove();
      body.hidden = false;
      li.classList.remove("editing");
    };
    cancel.addEventListener("click", () => {
      finish();
      li.querySelector(".edit-button")?.focus();
    });
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        cancel.click();
      } else if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      save.disabled = true;
      error.hidden = true;
      const ack = await this.request("edit_message", { room: this.roomSlug, id, body: box.value });
      save.disabled = false;
      if (!ack.ok) {
        error.textContent = ack.message;
        error.hidden = false;
        return;
      }
      finish();
      this.decorate(li, ack.message);
    });
  }

  // The member list's "Message" button: a form to the direct room with that person.
  addMessageButton(li) {
    const userId = Number(li.dataset.userId);
    if (userId === this.myId || li.querySelector(".dm-form")) return;
    const name = li.querySelector(".name")?.textContent || "";
    const form = document.createElement("form");
    form.method = "post";
    form.action = `/direct/${userId}`;
    form.className = "inline dm-form";
    const token = document.createElement("input");
    token.type = "hidden";
    token.name = "csrf_token";
    token.value = this.root.dataset.csrf;
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "link dm-button";
    button.setAttribute("aria-label", _("Message {name}", { name }));
    button.title = _("Send {name} a direct message", { name });
    button.append(envelopeIcon());
    form.append(token, button);
    const label = li.querySelector(".presence-label");
    if (label) label.before(form);
    else li.append(form);
  }

  // ---- mentions, the title and the read position -------------------------------

  arrived(message) {
    if (message.room !== this.roomSlug || message.sender.id === this.myId) return;
    if (document.hidden) this.title.add(1);
    this.scheduleRead();
  }

  mentioned(notice) {
    const here = notice.room.slug === this.roomSlug;
    if (here && !document.hidden) return; // highlighted in the log already
    notifyMention(notice);
    if (!here) {
      this.toast(mentionText(notice),
        `/rooms/${encodeURIComponent(notice.room.slug)}?around=${notice.message.id}`);
    }
  }

  atEnd() {
    return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < AT_END_PX;
  }

  // Tell the server how far this person has read: the newest message, once it is on screen.
  scheduleRead() {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.sendRead(), READ_DELAY_MS);
  }

  async sendRead() {
    if (document.hidden || !this.socket.connected || !this.atEnd()) return;
    const ids = Array.from(this.list.querySelectorAll("li.msg[data-id]"), (li) => Number(li.dataset.id));
    const newest = ids.length ? Math.max(...ids) : 0;
    if (newest <= this.readSent) return; // the server never moves it back anyway
    this.readSent = newest;
    const ack = await this.request("read", { room: this.roomSlug, last_id: newest });
    if (!ack.ok && ack.error === "timeout") this.readSent = 0; // say it again next time
  }

  // After (re)joining: the page may be at the end already.
  joined() {
    this.scheduleRead();
  }
}

// The envelope of the member list's "Message" buttons (the same drawing as room.html's).
function envelopeIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const rect = document.createElementNS(ns, "rect");
  for (const [k, v] of Object.entries({ x: 3, y: 5.5, width: 18, height: 13, rx: 2, fill: "none", stroke: "currentColor", "stroke-width": 1.8 })) rect.setAttribute(k, v);
  const flap = document.createElementNS(ns, "path");
  for (const [k, v] of Object.entries({ d: "M3.8 7l8.2 6 8.2-6", fill: "none", stroke: "currentColor", "stroke-width": 1.8, "stroke-linejoin": "round" })) flap.setAttribute(k, v);
  svg.append(rect, flap);
  return svg;
}

// ---- pictures and files ----------------------------------------------------------

const FILE_ICONS = { audio: "🎵", video: "🎬" };

function renderPicture(attachment) {
  const link = document.createElement("a");
  link.className = "attachment";
  link.href = attachment.url;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  const img = document.createElement("img");
  img.src = attachment.thumb_url;
  if (attachment.thumb_width) img.width = attachment.thumb_width;
  if (attachment.thumb_height) img.height = attachment.thumb_height;
  img.alt = _("Picture: {name}", { name: attachment.name || attachment.filename || _("picture") });
  img.loading = "lazy";
  link.append(img);
  return link;
}

// The same card as templates/rooms/_attachments.html: a PDF's first page, icon, name (the download link),
// type and size, a player.
function renderFile(attachment) {
  const card = document.createElement("div");
  card.className = "file-card";
  card.dataset.kind = attachment.kind;
  if (attachment.preview_url) {
    const preview = document.createElement("a");
    preview.className = "file-preview";
    preview.href = attachment.url;
    preview.download = attachment.name;
    const img = document.createElement("img");
    img.src = attachment.preview_url;
    if (attachment.preview_width) img.width = attachment.preview_width;
    if (attachment.preview_height) img.height = attachment.preview_height;
    img.alt = _("First page of {name}", { name: attachment.name });
    img.loading = "lazy";
    preview.append(img);
    card.append(preview);
  }
  const icon = document.createElement("span");
  icon.className = "file-icon";
  icon.setAttribute("aria-hidden", "true");
  icon.textContent = FILE_ICONS[attachment.kind] || "📄";
  const text = document.createElement("span");
  text.className = "file-text";
  const link = document.createElement("a");
  link.className = "file-name";
  link.href = attachment.url;
  link.download = attachment.name;
  link.textContent = attachment.name;
  const meta = document.createElement("span");
  meta.className = "file-meta";
  meta.textContent = `${attachment.filename.split(".").pop().toUpperCase()} · ${fileSize(attachment.size)}`;
  text.append(link, meta);
  card.append(icon, text);
  if (attachment.kind === "audio" || attachment.kind === "video") {
    const player = document.createElement(attachment.kind);
    player.controls = true;
    player.preload = attachment.kind === "audio" ? "none" : "metadata";
    player.src = attachment.url;
    player.setAttribute("aria-label", attachment.name);
    card.append(player);
  }
  return card;
}

function renderAttachments(li, attachments) {
  li.querySelector(".attachments")?.remove();
  if (!attachments.length) return;
  const box = document.createElement("div");
  box.className = "attachments";
  for (const attachment of attachments) {
    // No kind: a server from before files, which sent only pictures.
    box.append((attachment.kind || "image") === "image" ? renderPicture(attachment) : renderFile(attachment));
  }
  const body = li.querySelector(".body");
  (body || li.querySelector(".meta")).after(box);
}

function setEdited(li, editedAt) {
  let mark = li.querySelector(".edited");
  if (!editedAt) {
    mark?.remove();
    return;
  }
  if (!mark) {
    mark = document.createElement("span");
    mark.className = "edited";
    const state = li.querySelector(".meta .state");
    (state || li.querySelector(".meta time")).after(mark);
  }
  mark.textContent = _("edited");
  mark.title = _("Edited {when}", { when: fullFormat.format(new Date(editedAt)) });
}

// A small notice at the bottom of the page, with a link; gone after a while.
function makeToast() {
  const region = document.createElement("div");
  region.className = "toast-region";
  region.setAttribute("role", "status");
  document.body.append(region);
  return (text, href) => {
    const toast = document.createElement("p");
    toast.className = "toast";
    toast.append(text, " ");
    if (href) {
      const link = document.createElement("a");
      link.href = href;
      link.textContent = _("Open");
      toast.append(link);
    }
    region.append(toast);
    setTimeout(() => toast.remove(), 10000);
  };
}
