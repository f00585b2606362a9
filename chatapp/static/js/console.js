// The agent console: the live queue, one conversation at a time with replies, notes and
// typing both ways, and the visitor's details. Everything the server sends is shown as text.
// Delivery (outbox, retries, catch-up, placing by id) is delivery.js's; this script draws.
import { Delivery, bodyLimit, openSocket, watchConnection } from "./delivery.js";
import { TypingDisplay, TypingSender, bindEnterToSend, formatTime, request } from "./chatkit.js";
import { _, language, ngettext, pgettext } from "./i18n.js";
import { ReplyBar, addReplyButton, bindQuoteJumps, loadingOlder } from "./replies.js";
import { Reactions } from "./reactions.js";
import { Availability, bindShortcuts } from "./availability.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 6000;
const BASE_TITLE = _("Support") + " · chatapp";
const STATUS_NAMES = {
  open: pgettext("conversation status", "Open"),
  pending: pgettext("conversation status", "Pending"),
  resolved: pgettext("conversation status", "Resolved"),
};

const root = document.getElementById("console");
const myId = Number(root.dataset.userId);
const transcriptUrl = root.dataset.transcriptUrl;

const statusLine = document.getElementById("connection");
const queueList = document.getElementById("queue");
const queueEmpty = document.getElementById("queue-empty");
const statusFilter = document.getElementById("status-filter");
const viewButtons = Array.from(document.querySelectorAll(".views .view"));
const notifyButton = document.getElementById("notify-button");
const placeholder = document.getElementById("thread-placeholder");
const threadBody = document.getElementById("thread-body");
const threadTitle = document.getElementById("thread-title");
const threadMeta = document.getElementById("thread-meta");
const threadError = document.getElementById("thread-error");
const claimButton = document.getElementById("claim-button");
const assignSelect = document.getElementById("assign-select");
const pendingButton = document.getElementById("pending-button");
const resolveButton = document.getElementById("resolve-button");
const transcriptLink = document.getElementById("transcript-link");
const list = document.getElementById("messages");
const typingLine = document.getElementById("typing");
const form = document.getElementById("composer");
const input = document.getElementById("message-input");
const cannedSelect = document.getElementById("canned-select");
const composerError = document.getElementById("composer-error");
const detailsEmpty = document.getElementById("details-empty");
const details = document.getElementById("details");

let view = "unassigned";
let status = "open";
let current = null; // the open conversation's room slug
const shown = new Map(); // room -> CONVERSATION in the current list
const known = new Map(); // room -> CONVERSATION, every one heard of (details of the open one)
const attention = new Map(); // room -> unread, for the tab title
const lastNotified = new Map(); // room -> last message id a desktop notification was shown for

const olderButton = document.getElementById("load-older");
const socket = openSocket();
const thread = new Delivery({
  socket,
  list,
  myId,
  receiptFrom: (receipt) => receipt.visitor, // the visitor read it (not another agent)
  view: {
    label: (message) => (message.sender.id === myId ? _("You") : message.sender.display_name),
    payload: (entry) => (entry.internal ? { internal: true } : {}), // a note: staff only
    placed(li, message) {
      addReplyButton(li, replies);
      reactions.decorate(li, message);
    },
    joined: (ack) => reactions.joined(ack), // whether this agent may react here: the server's answer
    updated: (message) => reactions.redraw(message),
    deleted: ({ id }) => reactions.removed(id),
    older: (more) => { olderButton.hidden = !more; },
  },
});
// Emoji reactions, the visitor's and the staff's (reactions.js), on the open conversation.
const reactions = new Reactions({ request: (event, payload) => request(socket, event, payload), list, room: () => current, myId });
// Replies: an agent answers a particular message; a quote leads to what it quotes.
const replies = new ReplyBar({ form, input });
bindQuoteJumps(list, { missing: loadingOlder(list, () => thread, olderButton) });
olderButton.addEventListener("click", () => thread.loadOlder(olderButton));
const availability = new Availability({ socket, myId });
bindShortcuts({ availability, queueList });
const typing = new TypingSender({ socket, idleMs: TYPING_IDLE_MS });
const typers = new TypingDisplay(typingLine, { shownMs: TYPING_SHOWN_MS });

// ---- small helpers -------------------------------------------------------------

function visitorName(conversation) {
  return conversation.contact?.name || conversation.visitor.display_name;
}

function showError(target, message) {
  target.textContent = message || "";
  target.hidden = !message;
}

function setStatus(state, text) {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

function updateTitle() {
  const total = Array.from(attention.values()).reduce((sum, n) => sum + n, 0);
  document.title = total ? `(${total}) ${BASE_TITLE}` : BASE_TITLE;
}

// Which views a conversation is in, and whether it is this agent's business, are the server's
// answers (CONVERSATION's `views` and `needs_attention`): the console reads them.
function matchesFilter(conversation) {
  if (conversation.status !== status || !(conversation.views || []).includes(view)) return false;
  // Whether it matches the filter bar's label, assignee, site or search is the server's answer:
  // one already listed stays until the next support_list (refreshSoon) says otherwise.
  return !filtersActive() || shown.has(conversation.room);
}

function needsMe(conversation) {
  return Boolean(conversation.needs_attention);
}

// ---- the queue -------------------------------------------------------------------

function queueItem(conversation) {
  const li = document.createElement("li");
  li.dataset.room = conversation.room;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "queue-item";
  if (conversation.room === current) button.setAttribute("aria-current", "true");
  const top = document.createElement("span");
  top.className = "queue-top";
  const name = document.createElement("span");
  name.className = "queue-name";
  name.textContent = visitorName(conversation);
  const dot = document.createElement("span");
  dot.className = `presence-dot ${conversation.visitor_online ? "online" : "offline"}`;
  dot.title = conversation.visitor_online ? _("Visitor online") : _("Visitor offline");
  const time = document.createElement("time");
  time.textContent = formatTime(conversation.last_message_at);
  top.append(dot, name, time);
  const preview = document.createElement("span");
  preview.className = "queue-preview";
  const last = conversation.last_message;
  let text = last ? last.body : "";
  if (last && last.sender.id === myId) text = _("You: {text}", { text });
  if (last?.internal) text = _("Note: {text}", { text });
  preview.textContent = text;
  const bottom = document.createElement("span");
  bottom.className = "queue-bottom";
  const who = document.createElement("span");
  who.className = "queue-assignee";
  if (!conversation.assignee) who.textContent = _("Unassigned");
  else if (conversation.assignee.id === myId) who.textContent = _("Assigned to you");
  else who.textContent = _("Assigned to {name}", { name: conversation.assignee.display_name });
  const site = document.createElement("span");
  site.className = "queue-site";
  site.textContent = conversation.site.name;
  bottom.append(who, site);
  button.append(top, preview, bottom);
  if (conversation.labels?.length) button.append(labelChips(conversation.labels, "span"));
  if (conversation.unread > 0) {
    const badge = document.createElement("span");
    badge.className = "unread";
    badge.textContent = String(conversation.unread);
    const label = document.createElement("span");
    label.className = "visually-hidden";
    label.textContent = " " + ngettext("unread message", "unread messages", conversation.unread);
    badge.append(label);
    top.append(badge);
  }
  button.addEventListener("click", () => openConversation(conversation.room));
  li.append(button);
  return li;
}

function renderQueue() {
  const items = Array.from(shown.values()).sort((a, b) => (b.last_message_at || "").localeCompare(a.last_message_at || ""));
  queueList.replaceChildren(...items.map(queueItem));
  queueEmpty.hidden = items.length > 0;
}

function setCounts(counts) {
  for (const [name, count] of Object.entries(counts)) {
    const badge = document.querySelector(`.count[data-count="${name}"]`);
    if (badge) badge.textContent = String(count);
  }
}

let refreshTimer = null;
async function loadQueue() {
  clearTimeout(refreshTimer);
  const ack = await request(socket, "support_list", { view, status, ...filterValues() });
  if (!ack.ok) {
    if (ack.error === "invalid" || ack.error === "too_large") showError(filtersError, ack.message); // the search
    else if (ack.error !== "timeout") setStatus("offline", ack.message);
    return;
  }
  showError(filtersError, "");
  shown.clear();
  for (const conversation of ack.conversations) {
    shown.set(conversation.room, conversation);
    known.set(conversation.room, conversation);
    if (!lastNotified.has(conversation.room)) lastNotified.set(conversation.room, conversation.last_message?.id || 0);
  }
  attention.clear();
  for (const [room, unread] of Object.entries(ack.attention)) attention.set(room, unread);
  setCounts(ack.counts);
  availability.update(ack);
  renderQueue();
  updateTitle();
}

// Counts per view come from the server; a burst of updates asks for them once.
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadQueue, 800);
}

socket.on("conversation", (conversation) => {
  known.set(conversation.room, conversation);
  if (matchesFilter(conversation)) shown.set(conversation.room, conversation);
  else shown.delete(conversation.room);
  if (needsMe(conversation) && conversation.unread > 0) attention.set(conversation.room, conversation.unread);
  else attention.delete(conversation.room);
  renderQueue();
  updateTitle();
  if (conversation.room === current) renderConversation(conversation);
  maybeNotify(conversation);
  refreshSoon();
});

for (const button of viewButtons) {
  button.addEventListener("click", () => {
    view = button.dataset.view;
    for (const other of viewButtons) other.setAttribute("aria-pressed", String(other === button));
    loadQueue();
  });
}
statusFilter.addEventListener("change", () => {
  status = statusFilter.value;
  loadQueue();
});

// ---- desktop notifications ---------------------------------------------------------

function maybeNotify(conversation) {
  const last = conversation.last_message;
  if (!last || last.sender.id === myId || last.internal) return;
  if ((lastNotified.get(conversation.room) || 0) >= last.id) return;
  lastNotified.set(conversation.room, last.id);
  if (!needsMe(conversation)) return;
  if (!document.hidden && conversation.room === current) return;
  if (!("Notification" in window) || Notification.permission !== "granted") return;
  const note = new Notification(`${visitorName(conversation)} · ${conversation.site.name}`, {
    body: last.body.slice(0, 180),
    tag: conversation.room,
  });
  note.addEventListener("click", () => {
    window.focus();
    openConversation(conversation.room);
    note.close();
  });
}

if ("Notification" in window && Notification.permission === "default") {
  notifyButton.hidden = false;
  notifyButton.addEventListener("click", async () => {
    await Notification.requestPermission();
    notifyButton.hidden = Notification.permission !== "default";
  });
}

// ---- one conversation --------------------------------------------------------------

function renderConversation(conversation) {
  threadTitle.textContent = visitorName(conversation);
  const parts = [conversation.site.name, STATUS_NAMES[conversation.status] || conversation.status];
  if (!conversation.assignee) parts.push(_("unassigned"));
  else if (conversation.assignee.id === myId) parts.push(_("assigned to you"));
  else parts.push(_("assigned to {name}", { name: conversation.assignee.display_name }));
  threadMeta.textContent = parts.join(" · ");
  claimButton.hidden = Boolean(conversation.assignee);
  assignSelect.value = conversation.assignee ? String(conversation.assignee.id) : "";
  const resolved = conversation.status === "resolved";
  resolveButton.textContent = resolved ? _("Reopen") : _("Resolve");
  resolveButton.classList.toggle("primary", !resolved && Boolean(conversation.assignee));
  pendingButton.hidden = conversation.status === "pending" || resolved;
  transcriptLink.href = transcriptUrl.replace("__room__", encodeURIComponent(conversation.room));
  renderThreadLabels(conversation);
  renderDetails(conversation);
}

function setField(name, value, { link = false } = {}) {
  const cell = details.querySelector(`[data-field="${name}"]`);
  cell.replaceChildren();
  if (!value) {
    cell.textContent = "—";
    return;
  }
  if (link && /^https?:\/\//i.test(value)) {
    const a = document.createElement("a");
    a.href = value; // only http(s): never a javascript: URL
    a.textContent = value;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    cell.append(a);
  } else {
    cell.textContent = value;
  }
}

// "Chrome 131 on Windows" for a glance; the whole user agent stays in the tooltip.
function browserSummary(userAgent) {
  if (!userAgent) return null;
  const browsers = [[/Edg\/(\d+)/, "Edge"], [/OPR\/(\d+)/, "Opera"], [/Firefox\/(\d+)/, "Firefox"],
    [/(?:Headless)?Chrome\/(\d+)/, "Chrome"], [/Version\/(\d+)[^ ]* (?:Mobile\/\S+ )?Safari/, "Safari"]];
  const systems = [[/iPhone|iPad/, "iOS"], [/Android/, "Android"], [/Windows/, "Windows"], [/Mac OS X/, "macOS"],
    [/CrOS/, "ChromeOS"], [/Linux/, "Linux"]];
  const browser = browsers.find(([re]) => re.test(userAgent));
  const system = systems.find(([re]) => re.test(userAgent));
  if (!browser && !system) return userAgent;
  const name = browser ? `${browser[1]} ${userAgent.match(browser[0])[1]}` : _("A browser");
  return system ? _("{browser} on {system}", { browser: name, system: system[1] }) : name;
}

function renderDetails(conversation) {
  detailsEmpty.hidden = true;
  details.hidden = false;
  const contact = conversation.contact || {};
  setField("name", contact.name || conversation.visitor.display_name);
  setField("email", contact.email);
  setField("online", conversation.visitor_online ? _("Online now") : _("Offline · last seen {when}", { when: contact.last_seen_at ? formatTime(contact.last_seen_at) : "—" }));
  setField("site", conversation.site.name);
  setField("page", contact.page_url, { link: true });
  setField("browser", browserSummary(contact.user_agent));
  details.querySelector('[data-field="browser"]').title = contact.user_agent || "";
  setField("external", contact.external_id);
  setField("first_seen", contact.first_seen_at ? new Date(contact.first_seen_at).toLocaleString(language()) : null);
  setField(
    "rating",
    conversation.rating ? `${conversation.rating}/5${conversation.rating_comment ? ` · “${conversation.rating_comment}”` : ""}` : null,
  );
}

async function openConversation(room) {
  if (current === room) return;
  const previous = current;
  if (previous) {
    typing.stop();
    request(socket, "leave", { room: previous });
  }
  current = room;
  typers.clearAll();
  showError(threadError, "");
  showError(composerError, "");
  placeholder.hidden = true;
  threadBody.hidden = false;
  thread.setRoom(room);
  replies.clear(); // a reply belongs to the conversation it was started in
  const url = new URL(location.href);
  url.searchParams.set("c", room);
  history.replaceState(null, "", url);
  for (const item of queueList.querySelectorAll(".queue-item")) {
    if (item.parentElement.dataset.room === room) item.setAttribute("aria-current", "true");
    else item.removeAttribute("aria-current");
  }
  const summary = known.get(room);
  if (summary) renderConversation(summary);
  const fresh = await request(socket, "support_get", { room });
  if (room !== current) return;
  if (!fresh.ok) {
    showError(threadError, fresh.message);
    return;
  }
  known.set(room, fresh.conversation);
  renderConversation(fresh.conversation);
  await enterCurrent();
  input.focus();
}

async function enterCurrent() {
  const room = current;
  const ack = await thread.joinAndCatchUp();
  if (room !== current) return;
  if (!ack.ok) {
    if (ack.error !== "timeout") showError(threadError, ack.message);
    return;
  }
  thread.scrollToEnd();
  markRead();
}

async function markRead() {
  if (!current || document.hidden) return;
  const lastId = thread.lastId();
  if (!lastId) return;
  const ack = await request(socket, "read", { room: current, last_id: lastId });
  if (ack.ok && ack.unread === 0) {
    attention.delete(current);
    updateTitle();
  }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) markRead();
});

socket.on("message", (message) => {
  if (message.room !== current) return;
  const atEnd = thread.nearEnd();
  if (!thread.render(message)) return;
  typers.clear(message.sender.id);
  if (atEnd || message.sender.id === myId) thread.scrollToEnd();
  if (message.sender.id !== myId) markRead();
});

socket.on("presence", ({ room, online }) => {
  const conversation = known.get(room);
  if (room !== current || !conversation) return;
  conversation.visitor_online = online.some((user) => user.id === conversation.visitor.id);
  renderDetails(conversation);
});

// ---- actions -------------------------------------------------------------------------

async function act(event, payload) {
  showError(threadError, "");
  const ack = await request(socket, event, payload);
  if (!ack.ok) {
    showError(threadError, ack.message);
    return;
  }
  known.set(ack.conversation.room, ack.conversation);
  if (ack.conversation.room === current) renderConversation(ack.conversation);
  loadQueue();
}

claimButton.addEventListener("click", () => act("support_claim", { room: current }));
assignSelect.addEventListener("change", () => {
  const value = assignSelect.value;
  act("support_assign", value ? { room: current, user_id: Number(value) } : { room: current });
});
pendingButton.addEventListener("click", () => act("support_status", { room: current, status: "pending" }));
resolveButton.addEventListener("click", () => {
  const resolved = known.get(current)?.status === "resolved";
  act("support_status", { room: current, status: resolved ? "open" : "resolved" });
});

// ---- writing ---------------------------------------------------------------------------

function noteMode() {
  return form.elements.mode.value === "note";
}

function updateMode() {
  const note = noteMode();
  form.classList.toggle("note-mode", note);
  input.placeholder = note
    ? _("Write an internal note (only staff see it)…")
    : _("Reply to the visitor… (type /shortcut and Tab for a canned response)");
  if (note) typing.stop();
}
for (const radio of form.elements.mode) radio.addEventListener("change", updateMode);

function submit() {
  const body = input.value.trim();
  showError(composerError, "");
  if (!body || !current) return;
  const max = bodyLimit(input);
  if (body.length > max) {
    showError(composerError, _("A message can be at most {max} characters; this one has {length}.", { max, length: body.length }));
    return;
  }
  const extra = noteMode() ? { internal: true } : {};
  const replyTo = replies.take();
  if (replyTo) extra.reply_to = replyTo;
  thread.submit(body, extra);
  input.value = "";
  typing.stop();
}

bindEnterToSend(form, input, submit);

function insertCanned(body) {
  input.value = input.value.trim() ? `${input.value.trimEnd()} ${body}` : body;
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

cannedSelect.addEventListener("change", () => {
  const option = cannedSelect.selectedOptions[0];
  if (option?.dataset.body) insertCanned(option.dataset.body);
  cannedSelect.value = "";
});

input.addEventListener("keydown", (event) => {
  if (event.key === "Tab" && !event.shiftKey) {
    // "/shortcut" + Tab: the canned response replaces the shortcut.
    const match = input.value.match(/(?:^|\s)\/([a-z0-9_-]+)$/);
    const option = match && cannedSelect.querySelector(`option[data-shortcut="${CSS.escape(match[1])}"]`);
    if (option) {
      event.preventDefault();
      input.value = input.value.slice(0, input.value.length - match[1].length - 1);
      insertCanned(option.dataset.body);
    }
  }
});

typing.watch(input, () => (noteMode() ? null : current));

socket.on("typing", ({ room, user, typing: active }) => {
  if (room !== current || user.id === myId) return;
  typers.update(user, active);
});

// ---- labels and the filter bar ---------------------------------------------------------------
// The label list is the server's (support_labels); which conversations a filter or a search
// matches is too (support_list): this part only draws and asks.

const filtersForm = document.getElementById("queue-filters");
const searchInput = document.getElementById("queue-search");
const labelFilter = document.getElementById("label-filter");
const assigneeFilter = document.getElementById("assignee-filter");
const siteFilter = document.getElementById("site-filter");
const clearFilters = document.getElementById("clear-filters");
const filtersError = document.getElementById("queue-filters-error");
const threadLabels = document.getElementById("thread-labels");
const addLabelForm = document.getElementById("add-label-form");
const addLabelSelect = document.getElementById("add-label");
const SEARCH_PAUSE_MS = 350;
let labels = []; // LABEL, by name, as the server listed them

function filterValues() {
  const values = {};
  const query = searchInput.value.trim();
  if (query) values.query = query;
  if (labelFilter.value) values.label_id = Number(labelFilter.value);
  if (assigneeFilter.value) values.assignee_id = Number(assigneeFilter.value);
  if (siteFilter.value) values.site_id = Number(siteFilter.value);
  return values;
}

function filtersActive() {
  return Object.keys(filterValues()).length > 0;
}

// A label as a chip: a swatch of its colour (never the colour of the text, which stays readable) and its name.
function labelChip(label, tag) {
  const chip = document.createElement(tag);
  chip.className = "label-chip";
  const swatch = document.createElement("span");
  swatch.className = "label-swatch";
  swatch.setAttribute("aria-hidden", "true");
  swatch.style.backgroundColor = label.colour;
  const name = document.createElement("span");
  name.textContent = label.name;
  chip.append(swatch, name);
  return chip;
}

function labelChips(items, tag) {
  const box = document.createElement(tag);
  box.className = "label-chips";
  const hidden = document.createElement("span");
  hidden.className = "visually-hidden";
  hidden.textContent = ngettext("Label:", "Labels:", items.length);
  box.append(hidden, ...items.map((label) => labelChip(label, "span")));
  return box;
}

function fillSelect(select, first, items, chosen) {
  const options = items.map((label) => new Option(label.name, String(label.id)));
  select.replaceChildren(new Option(first, ""), ...options);
  select.value = items.some((label) => String(label.id) === chosen) ? chosen : "";
}

async function loadLabels() {
  const ack = await request(socket, "support_labels", {});
  if (!ack.ok) return; // the queue's own request says what is wrong
  labels = ack.labels;
  fillSelect(labelFilter, _("Any label"), labels, labelFilter.value);
  const open = current && known.get(current);
  if (open) renderThreadLabels(open);
}

function renderThreadLabels(conversation) {
  const on = conversation.labels || [];
  threadLabels.replaceChildren(...on.map((label) => {
    const li = labelChip(label, "li");
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "label-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", _("Remove label {name}", { name: label.name }));
    remove.addEventListener("click", () => setLabel(label.id, false));
    li.append(remove);
    return li;
  }));
  const onIds = new Set(on.map((label) => label.id));
  const chosen = addLabelSelect.value;
  fillSelect(addLabelSelect, _("Add a label…"), labels.filter((label) => !onIds.has(label.id)), chosen);
  addLabelForm.hidden = labels.length === 0;
}

async function setLabel(labelId, labelled) {
  const room = current;
  const removing = !labelled && threadLabels.contains(document.activeElement);
  await act("support_label", { room, label_id: labelId, labelled });
  // The chip with the focused button is gone: keep the keyboard in the same place.
  if (removing && room === current) (threadLabels.querySelector(".label-remove") || addLabelSelect).focus();
}

addLabelForm.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!addLabelSelect.value || !current) return;
  setLabel(Number(addLabelSelect.value), true);
});

function filtersChanged() {
  clearFilters.hidden = !filtersActive();
  loadQueue();
}

let searchTimer = null;
searchInput.addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(filtersChanged, SEARCH_PAUSE_MS);
});
filtersForm.addEventListener("submit", (event) => {
  event.preventDefault(); // Enter in the search box: search now
  clearTimeout(searchTimer);
  filtersChanged();
});
for (const select of [labelFilter, assigneeFilter, siteFilter]) select.addEventListener("change", filtersChanged);
clearFilters.addEventListener("click", () => {
  searchInput.value = "";
  labelFilter.value = assigneeFilter.value = siteFilter.value = "";
  filtersChanged();
  searchInput.focus();
});

// ---- connection ----------------------------------------------------------------------------

watchConnection(socket, setStatus);
socket.on("connect", async () => {
  await loadLabels();
  await loadQueue();
  if (current) await enterCurrent();
});

updateMode();
if (root.dataset.selected) openConversation(root.dataset.selected);
