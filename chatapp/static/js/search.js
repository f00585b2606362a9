// Searching the room: the `search` event, results as links that open each message in its context.
import { _, language, ngettext } from "./i18n.js";

const LIMIT = 20;
const timeFormat = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" });

export class Search {
  constructor({ request, roomSlug, list, form, input, panel, status, results, close }) {
    this.request = request;
    this.roomSlug = roomSlug;
    this.list = list;
    this.panel = panel;
    this.status = status;
    this.results = results;
    this.input = input;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.run(input.value);
    });
    close.addEventListener("click", () => this.hide());
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.hide();
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !panel.hidden) this.hide();
    });
  }

  hide() {
    this.panel.hidden = true;
    this.input.focus();
  }

  async run(text) {
    const q = text.trim();
    if (!q) return;
    this.panel.hidden = false;
    this.results.replaceChildren();
    this.status.textContent = _("Searching…");
    const ack = await this.request("search", { room: this.roomSlug, q, limit: LIMIT });
    if (!ack.ok) {
      this.status.textContent = ack.error === "timeout" ? _("The server did not answer in time. Try again.") : ack.message;
      return;
    }
    const count = ack.messages.length;
    if (count === 0) this.status.textContent = _("No messages match “{q}”.", { q }) + " " + _("Try other or fewer words.");
    else if (ack.more) this.status.textContent = _("The newest {count} messages matching “{q}”:", { count, q });
    else this.status.textContent = ngettext("{count} message match “{q}”:", "{count} messages match “{q}”:", count, { count, q });
    const words = q.toLowerCase().split(/\s+/).map((w) => w.replace(/["*()]/g, "")).filter((w) => w.length > 1);
    for (const message of ack.messages) this.results.append(this.resultItem(message, words));
  }

  resultItem(message, words) {
    const li = document.createElement("li");
    const link = document.createElement("a");
    link.href = `/rooms/${encodeURIComponent(this.roomSlug)}?around=${message.id}`;
    link.className = "search-result";
    const meta = document.createElement("span");
    meta.className = "search-meta";
    meta.textContent = `${message.sender.display_name} · ${timeFormat.format(new Date(message.created_at))}`;
    const text = document.createElement("span");
    text.className = "search-text";
    // What the message says as it reads on the page (the Markdown rendering's text, not its source).
    const plain = plainText(message).replace(/\s+/g, " ").trim();
    const shown = plain.length > 240 ? `${plain.slice(0, 239)}…` : plain;
    appendHighlighted(text, shown || (message.attachments?.length ? _("(a picture)") : ""), words);
    link.append(meta, text);
    // Already on this page: go there without reloading.
    link.addEventListener("click", (event) => {
      const item = this.list.querySelector(`li.msg[data-id="${message.id}"]`);
      if (!item) return;
      event.preventDefault();
      showInPlace(item);
      this.panel.hidden = true;
    });
    li.append(link);
    return li;
  }
}

// The message in view, marked for a moment, and focused for keyboard and screen-reader users.
export function showInPlace(item) {
  for (const other of item.parentElement.querySelectorAll("li.msg.target")) other.classList.remove("target");
  item.classList.add("target");
  item.tabIndex = -1;
  item.scrollIntoView({ block: "center" });
  item.focus({ preventScroll: true });
}

// The text of a message's server-sanitized rendering. DOMParser makes an inert document: nothing
// in it runs or loads, and only its text is used.
function plainText(message) {
  if (typeof message.html !== "string") return message.body;
  return new DOMParser().parseFromString(message.html, "text/html").body.textContent || "";
}

// text with each of words marked (<mark>), built from text nodes: never HTML.
function appendHighlighted(parent, text, words) {
  if (!words.length) {
    parent.append(text);
    return;
  }
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "gi");
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    parent.append(text.slice(last, match.index));
    const mark = document.createElement("mark");
    mark.textContent = match[0];
    parent.append(mark);
    last = match.index + match[0].length;
  }
  parent.append(text.slice(last));
}
