// The room page: live messages over Socket.IO, with an outbox and catch-up after reconnects.
import { io } from "/vendor/socket.io.esm.min.js";
import { Outbox, newClientId, retryDelay } from "./outbox.js";
import { Classroom } from "./classroom.js";
import {
  TypingDisplay, TypingSender, bindEnterToSend, localizeTimes, markFailed, messageItem, replayChanges,
  request as ackRequest, setState,
} from "./chatkit.js";
import { EmojiPicker } from "./composer.js";
import { arrangeMessages, watchMessages } from "./grouping.js";
import { enablePicturePreview } from "./preview.js";
import { _ } from "./i18n.js";
import { Messaging } from "./messaging.js";
import { Search, showInPlace } from "./search.js";
import { Uploads } from "./uploads.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 6000;
// While someone keeps typing, say so again this often: well inside TYPING_SHOWN_MS, so the
// others' indicator does not lapse during a long message, and a page opened meanwhile learns it.
const TYPING_REFRESH_MS = 2500;
const MAX_BODY = 4000;

const root = document.getElementById("room");
const roomSlug = root.dataset.room;
const myId = Number(root.dataset.userId);
const list = document.getElementById("messages");
const emptyNote = document.getElementById("empty");
const statusLine = document.getElementById("connection");
const form = document.getElementById("composer");
const input = document.getElementById("message-input");
const composerError = document.getElementById("composer-error");
const typingLine = document.getElementById("typing");
const olderButton = document.getElementById("load-older");
const memberList = document.getElementById("members");

const outbox = new Outbox(myId);
// The room revision the held messages are current to: the server-rendered page's, then each join's.
let revision = Number(root.dataset.revision || 0);
const retryTimers = new Map(); // client_id -> timeout id
const typers = new TypingDisplay(typingLine, { shownMs: TYPING_SHOWN_MS, many: _("Several people are typing…") });

// ---- rendering -------------------------------------------------------------

function confirmedIds() {
  return Array.from(list.querySelectorAll("li.msg[data-id]"), (li) => Number(li.dataset.id));
}

function lastId() {
  const ids = confirmedIds();
  return ids.length ? Math.max(...ids) : 0;
}

function firstId() {
  const ids = confirmedIds();
  return ids.length ? Math.min(...ids) : null;
}

function buildItem({ senderName, senderId, body, createdAt }) {
  const li = messageItem({ sender: senderName, own: senderId === myId, body, createdAt });
  li.dataset.senderId = String(senderId);
  return li;
}

function pendingItem(clientId) {
  return list.querySelector(`li.msg.pending[data-client-id="${CSS.escape(clientId)}"]`);
}

function scrollToEndIfNear(force = false) {
  const nearEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  if (force || nearEnd) list.scrollTop = list.scrollHeight;
}

// The own message with this client_id, already confirmed on the page (rendered by the server
// or by an earlier ack), if any.
function confirmedOwnItem(clientId) {
  return list.querySelector(
    `li.msg[data-id][data-sender-id="${myId}"][data-client-id="${CSS.escape(clientId)}"]:not(.pending)`,
  );
}

// Forget an outbox entry that the server has stored: no more retries, no pending copy.
function settleOwn(clientId) {
  clearRetry(clientId);
  outbox.remove(clientId);
}

// Put a stored message in its place by id; a message already shown is never shown twice.
function renderMessage(message) {
  if (message.room !== roomSlug) return;
  const own = message.sender.id === myId && message.client_id;
  if (list.querySelector(`li.msg[data-id="${message.id}"]`)) {
    // Already shown (say the reloaded page's HTML had it, and the ack of a retry came later):
    // a pending copy of it must go, or the page shows it twice, one copy stuck at "Sending…".
    if (own) {
      pendingItem(message.client_id)?.remove();
      settleOwn(message.client_id);
    }
    return;
  }
  let li = own ? pendingItem(message.client_id) : null;
  if (li) {
    li.classList.remove("pending", "failed");
    li.querySelector(".actions")?.remove();
    li.querySelector(".sender").textContent = message.sender.display_name; // as the server renders it
    settleOwn(message.client_id);
    li.remove();
  } else {
    li = buildItem({
      senderName: message.sender.display_name,
      senderId: message.sender.id,
      body: message.body,
      createdAt: message.created_at,
    });
  }
  li.dataset.id = String(message.id);
  if (message.client_id) li.dataset.clientId = message.client_id;
  if (message.sender.id === myId) {
    setState(li, "sent", _("Sent"));
    if (message.client_id) outbox.remove(message.client_id);
  }
  // Confirmed messages sit in id order, before any still-pending ones.
  const next = Array.from(list.querySelectorAll("li.msg")).find(
    (item) => item.classList.contains("pending") || (item.dataset.id && Number(item.dataset.id) > message.id),
  );
  list.insertBefore(li, next || null);
  emptyNote.hidden = true;
  typers.clear(message.sender.id);
  classroom.decorate(li, message); // deleted, pinned, question; the actions menu
  messaging.decorate(li, message); // Markdown, pictures, "edited", @mentions, the Edit button
}

function renderMessages(messages) {
  for (const message of [...messages].sort((a, b) => a.id - b.id)) renderMessage(message);
}

// ---- connection ------------------------------------------------------------

const socket = io({
  // Bounded exponential backoff with jitter, so a server restart is not met by a storm.
  reconnectionDelay: 1000,
  reconnectionDelayMax: 10000,
  randomizationFactor: 0.5,
});
window.chatapp = { socket }; // for tests and the curious: which transport is in use
// Pins, questions, deletions, slow mode, mutes and the moderator tools (classroom.js).
const classroom = new Classroom({ socket, request, roomSlug, myId, list, form, input });
// Markdown bodies, pictures, edits, @mentions, the read position and the title (messaging.js);
// the composer's emoji picker and picture uploads; searching the room.
const messaging = new Messaging({ socket, request, root, roomSlug, myId, list });
const uploads = new Uploads({
  root, roomSlug, input,
  button: document.getElementById("attach-button"),
  fileInput: document.getElementById("attach-input"),
  tray: document.getElementById("upload-tray"),
  trayList: document.getElementById("upload-list"),
  onChange: () => { input.required = uploads.ready().length === 0; }, // a picture may go without text
});
new EmojiPicker({ button: document.getElementById("emoji-button"), panel: document.getElementById("emoji-picker"), input });
new Search({
  request, roomSlug, list,
  form: document.getElementById("search"),
  input: document.getElementById("search-input"),
  panel: document.getElementById("search-results"),
  status: document.getElementById("search-status"),
  results: document.getElementById("search-list"),
  close: document.getElementById("search-close"),
});

function showStatus(state, text) {
  statusLine.dataset.state = state;
  statusLine.textContent = text;
}

socket.on("connect", async () => {
  showStatus("online", _("Connected"));
  await joinAndCatchUp();
  flushOutbox();
});

socket.on("disconnect", (reason) => {
  if (reason === "io server disconnect") {
    showStatus("offline", _("Disconnected by the server. Reload the page or log in again."));
  } else {
    showStatus("reconnecting", _("Connection lost. Reconnecting…"));
  }
});

socket.on("connect_error", (error) => {
  if (!socket.active) {
    const reason = error?.data?.message || _("The server refused the connection.");
    showStatus("offline", _("{reason} Reload the page to try again.", { reason }));
  } else {
    showStatus("reconnecting", _("Cannot reach the server. Reconnecting…"));
  }
});

function request(event, payload) {
  return ackRequest(socket, event, payload);
}

// Everything stored after the newest message this page has is what it missed. An empty page
// asks for everything after 0: the room was empty when the page was made, so all of it is new.
// And what changed meanwhile (edits, deletions, pins, answers) among the messages it holds.
async function joinAndCatchUp() {
  const ack = await request("join", { room: roomSlug, after: lastId(), revision });
  if (!ack.ok) {
    if (ack.error !== "timeout") showStatus("offline", ack.message);
    return;
  }
  renderMessages(ack.messages);
  classroom.joined(ack);
  messaging.joined();
  replayChanges(socket, ack.changed);
  revision = ack.revision;
  if (ack.changed_more) {
    await joinAndCatchUp(); // more changes than one answer holds: the rest, from the last one given
    return;
  }
  // Page forward from the last message of the previous page, not from the newest on the page:
  // live messages arrive while we page, and starting after one of them would skip the rest.
  let cursor = ack.messages.length ? ack.messages[ack.messages.length - 1].id : null;
  let more = ack.more;
  while (more && cursor !== null) {
    const page = await request("history", { room: roomSlug, after: cursor, limit: 100 });
    if (!page.ok) break;
    renderMessages(page.messages);
    cursor = page.messages.length ? page.messages[page.messages.length - 1].id : null;
    more = page.more;
  }
}

socket.on("message", (message) => {
  const atEnd = list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  renderMessage(message);
  if (atEnd) scrollToEndIfNear(true);
});

// ---- sending: the outbox ---------------------------------------------------

function clearRetry(clientId) {
  clearTimeout(retryTimers.get(clientId));
  retryTimers.delete(clientId);
}

function showFailed(entry, reason) {
  const li = pendingItem(entry.client_id);
  if (!li) return;
  markFailed(li, reason, {
    onRetry: () => {
      outbox.update(entry.client_id, { failed: null, attempts: 0 });
      attemptSend({ ...entry, failed: null, attempts: 0 });
    },
    onDiscard: () => {
      outbox.remove(entry.client_id);
      clearRetry(entry.client_id);
      emptyNote.hidden = list.querySelector("li.msg") !== null;
    },
  });
}

// Show an outbox entry as pending; false if the page shows it stored already.
function renderPending(entry) {
  if (confirmedOwnItem(entry.client_id)) {
    // Stored already (its ack was lost, then the page was reloaded): nothing left to send.
    pendingItem(entry.client_id)?.remove();
    settleOwn(entry.client_id);
    return false;
  }
  if (pendingItem(entry.client_id)) return true;
  const li = buildItem({ senderName: _("You"), senderId: myId, body: entry.body, createdAt: entry.created_at });
  li.classList.add("pending");
  li.dataset.clientId = entry.client_id;
  setState(li, "sending", _("Sending…"));
  messaging.decoratePending(li, entry);
  list.append(li);
  emptyNote.hidden = true;
  if (entry.failed) showFailed(entry, entry.failed);
  return true;
}

async function attemptSend(entry) {
  clearRetry(entry.client_id);
  if (!socket.connected) return; // flushed again on connect
  const payload = { room: entry.room, body: entry.body, client_id: entry.client_id };
  if (entry.question) payload.question = true;
  if (entry.attachments?.length) payload.attachments = entry.attachments.map((picture) => picture.id);
  const ack = await request("send", payload);
  if (ack.ok) {
    renderMessage(ack.message);
    classroom.sent();
    return;
  }
  if (ack.error === "timeout") {
    // No answer: the message may or may not be stored. Same client_id again, later.
    const attempts = (entry.attempts || 0) + 1;
    outbox.update(entry.client_id, { attempts });
    const next = { ...entry, attempts };
    retryTimers.set(entry.client_id, setTimeout(() => attemptSend(next), retryDelay(attempts)));
    return;
  }
  // The server said no: show why, and let the person decide.
  classroom.refused(ack); // slow mode, a mute or announcement-only: the composer says so too
  outbox.update(entry.client_id, { failed: ack.message });
  showFailed(entry, ack.message);
}

function flushOutbox() {
  for (const entry of outbox.forRoom(roomSlug)) {
    if (renderPending(entry) && !entry.failed && !retryTimers.has(entry.client_id)) attemptSend(entry);
  }
}

function submit() {
  const body = input.value.trim();
  composerError.hidden = true;
  if (uploads.busy()) {
    composerError.textContent = _("Wait for the picture to finish uploading, or cancel it.");
    composerError.hidden = false;
    return;
  }
  if (!body && uploads.ready().length === 0) return;
  if (classroom.sendBlocked()) return; // the page says why (slow mode, mute, announcement-only)
  if (body.length > MAX_BODY) {
    composerError.textContent = _("A message can be at most {max} characters; this one has {length}.", { max: MAX_BODY, length: body.length });
    composerError.hidden = false;
    return;
  }
  const entry = { client_id: newClientId(), room: roomSlug, body, created_at: new Date().toISOString(), attempts: 0 };
  if (classroom.takeQuestion()) entry.question = true;
  const pictures = uploads.take();
  if (pictures.length) entry.attachments = pictures;
  outbox.add(entry);
  renderPending(entry);
  scrollToEndIfNear(true);
  input.value = "";
  typing.stop();
  attemptSend(entry);
}

bindEnterToSend(form, input, submit);

// ---- typing ----------------------------------------------------------------

const typing = new TypingSender({ socket, idleMs: TYPING_IDLE_MS, refreshMs: TYPING_REFRESH_MS });
typing.watch(input, () => roomSlug);

socket.on("typing", ({ room, user, typing: active }) => {
  if (room !== roomSlug || user.id === myId) return;
  typers.update(user, active);
});

// ---- presence --------------------------------------------------------------

socket.on("presence", ({ room, online }) => {
  if (room !== roomSlug) return;
  const onlineIds = new Set(online.map((u) => u.id));
  for (const user of online) {
    if (!memberList.querySelector(`li[data-user-id="${user.id}"]`)) {
      const li = document.createElement("li");
      li.dataset.userId = String(user.id);
      const dot = document.createElement("span");
      dot.className = "dot";
      dot.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = user.display_name;
      const label = document.createElement("span");
      label.className = "visually-hidden presence-label";
      li.append(dot, name, label);
      memberList.append(li);
    }
  }
  for (const li of memberList.querySelectorAll("li[data-user-id]")) {
    const isOnline = onlineIds.has(Number(li.dataset.userId));
    li.className = isOnline ? "online" : "offline";
    const label = li.querySelector(".presence-label");
    if (label) label.textContent = isOnline ? _("online") : _("offline");
  }
});

// ---- older messages --------------------------------------------------------

olderButton.addEventListener("click", async () => {
  const before = firstId();
  if (before === null) return;
  olderButton.disabled = true;
  olderButton.textContent = _("Loading…");
  const page = await request("history", { room: roomSlug, before, limit: 50 });
  olderButton.disabled = false;
  olderButton.textContent = _("Load older messages");
  if (!page.ok) {
    composerError.textContent = page.message;
    composerError.hidden = false;
    return;
  }
  const height = list.scrollHeight;
  renderMessages(page.messages);
  arrangeMessages(list); // now, not after this task: the separators count in the height
  list.scrollTop += list.scrollHeight - height;
  olderButton.hidden = !page.more;
});

// ---- start -----------------------------------------------------------------

localizeTimes(list);
watchMessages(list); // groups, day separators, avatars: now and after every change
enablePicturePreview(list);
for (const entry of outbox.forRoom(roomSlug)) renderPending(entry);
// ?around=ID (a search result): that message in the middle of the view, marked; else the end.
const target = list.querySelector("li.msg.target");
if (target) showInPlace(target);
else scrollToEndIfNear(true);
