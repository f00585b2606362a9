// The room page: live messages over Socket.IO. Delivery (the outbox, retries, catch-up after
// reconnects, placing by id) is delivery.js's; this page draws and adds the room's tools.
import { Delivery, bodyLimit, openSocket, watchConnection } from "./delivery.js";
import { Classroom } from "./classroom.js";
import { TypingDisplay, TypingSender, bindEnterToSend, localizeTimes, request as ackRequest } from "./chatkit.js";
import { EmojiPicker } from "./composer.js";
import { enablePicturePreview } from "./preview.js";
import { _ } from "./i18n.js";
import { Messaging } from "./messaging.js";
import { Polls, bindPollForm } from "./polls.js";
import { decorateAssignment } from "./assignment_link.js";
import { ReplyBar, addReplyButton, bindQuoteJumps } from "./replies.js";
import { SeenBy } from "./seen.js";
import { Reactions } from "./reactions.js";
import { Search, showInPlace } from "./search.js";
import { Uploads } from "./uploads.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 6000;
// While someone keeps typing, say so again this often: well inside TYPING_SHOWN_MS, so the
// others' indicator does not lapse during a long message, and a page opened meanwhile learns it.
const TYPING_REFRESH_MS = 2500;

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

const typers = new TypingDisplay(typingLine, { shownMs: TYPING_SHOWN_MS, many: _("Several people are typing…") });

function scrollToEndIfNear(force = false) {
  if (force || delivery.nearEnd()) delivery.scrollToEnd();
}

function showEmptyNote() {
  emptyNote.hidden = list.querySelector("li.msg") !== null;
}

// ---- connection and delivery -------------------------------------------------

const socket = openSocket();
// The page holds every message up to its newest (rendered by the server), current to its
// revision: the first catch-up asks for what came after both.
const delivery = new Delivery({
  socket, list, myId, room: roomSlug, revision: Number(root.dataset.revision || 0), heldAll: true,
  view: {
    placed(li, message) {
      typers.clear(message.sender.id);
      classroom.decorate(li, message); // deleted, pinned, question; the actions menu
      messaging.decorate(li, message); // Markdown, pictures, "edited", @mentions, the Edit button
      addReplyButton(li, replies);
      seenBy?.offer(li);
      reactions.decorate(li, message); // the emoji reactions and "Add reaction"
      polls.decorate(li, message); // a poll's options and results
      decorateAssignment(li, message, roomSlug); // homework: a link to its page and its due time
    },
    pending: (li, entry) => messaging.decoratePending(li, entry),
    adopted(li, message) {
      classroom.decorate(li, message); // "You, anonymously", and the own message's menu
      messaging.decorate(li, message); // the Edit button
    },
    payload(entry) {
      const fields = {};
      if (entry.question) fields.question = true;
      if (entry.anonymous) fields.anonymous = true;
      if (entry.attachments?.length) fields.attachments = entry.attachments.map((picture) => picture.id);
      return fields;
    },
    sent: () => classroom.sent(),
    refused: (ack) => classroom.refused(ack), // slow mode, a mute or announcement-only: the composer says so too
    joined(ack) {
      classroom.joined(ack);
      messaging.joined();
      reactions.joined(ack);
      polls.joined();
    },
    updated(message) {
      reactions.redraw(message);
      const li = list.querySelector(`li.msg[data-id="${message.id}"]`);
      if (li) polls.decorate(li, message);
    },
    deleted: ({ id }) => reactions.removed(id),
    changed: showEmptyNote,
    older: (more) => { olderButton.hidden = !more; },
  },
});
// Pins, questions, deletions, slow mode, mutes and the moderator tools (classroom.js).
// Its rejoin (for fresh capabilities) is the ordinary catch-up; offline, the reconnect's join brings them.
const rejoin = () => (socket.connected ? delivery.joinAndCatchUp() : null);
const classroom = new Classroom({ socket, request, rejoin, roomSlug, myId, list, form, input });
// Markdown bodies, pictures, edits, @mentions, the read position and the title (messaging.js);
// the composer's emoji picker and picture uploads; searching the room.
const messaging = new Messaging({ socket, request, root, roomSlug, myId, list, maxBody: bodyLimit(input) });
// Replies: a Reply button on each message, the bar above the composer, and quotes that lead to
// what they quote (the server's ?around= page when it is not loaded here).
const replies = new ReplyBar({ form, input });
// "Seen by" for one's own messages and a moderator's (seen.js); a direct room's say "Read" instead.
const seenBy = root.dataset.direct ? null : new SeenBy({ request, roomSlug, myId, mayModerate: () => classroom.mayModerate });
for (const li of list.querySelectorAll("li.msg[data-id]")) {
  addReplyButton(li, replies);
  seenBy?.offer(li);
}
bindQuoteJumps(list, {
  missing(id) {
    location.assign(`?around=${id}`);
    return false;
  },
});
// Emoji reactions under each message (reactions.js).
const reactions = new Reactions({ request, list, room: () => roomSlug, myId, mayReact: root.dataset.mayReact === "true" });
// Polls drawn in their messages, and the moderators' "New poll" form (polls.js).
const polls = new Polls({ socket, request, list, roomSlug });
bindPollForm({ request, roomSlug });
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

watchConnection(socket, showStatus);
socket.on("connect", async () => {
  const ack = await delivery.joinAndCatchUp();
  if (!ack.ok && ack.error !== "timeout") showStatus("offline", ack.message);
});

function request(event, payload) {
  return ackRequest(socket, event, payload);
}

socket.on("message", (message) => {
  const atEnd = delivery.nearEnd();
  delivery.render(message);
  if (atEnd) scrollToEndIfNear(true);
});

// ---- sending -----------------------------------------------------------------

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
  const max = bodyLimit(input);
  if (body.length > max) {
    composerError.textContent = _("A message can be at most {max} characters; this one has {length}.", { max, length: body.length });
    composerError.hidden = false;
    return;
  }
  const extra = {};
  if (classroom.takeAnonymous()) extra.anonymous = true; // before takeQuestion: an anonymous one is a question
  if (classroom.takeQuestion()) extra.question = true;
  const pictures = uploads.take();
  if (pictures.length) extra.attachments = pictures;
  const replyTo = replies.take();
  if (replyTo) extra.reply_to = replyTo;
  input.value = "";
  typing.stop();
  delivery.submit(body, extra);
}

bindEnterToSend(form, input, submit);

// ---- typing ----------------------------------------------------------------

const typing = new TypingSender({ socket, idleMs: TYPING_IDLE_MS, refreshMs: TYPING_REFRESH_MS });
// Asking anonymously: the class is not told who is typing it (docs/security.md).
const askAnonymously = document.getElementById("ask-anonymously");
askAnonymously?.addEventListener("change", () => {
  if (askAnonymously.checked) typing.stop();
});
typing.watch(input, () => (askAnonymously?.checked ? null : roomSlug));

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
  const page = await delivery.loadOlder(olderButton);
  if (!page.ok) {
    composerError.textContent = page.message;
    composerError.hidden = false;
  }
});

// ---- start -----------------------------------------------------------------

localizeTimes(list);
enablePicturePreview(list);
delivery.showOutbox();
// ?around=ID (a search result): that message in the middle of the view, marked; else the end.
const target = list.querySelector("li.msg.target");
if (target) showInPlace(target);
else scrollToEndIfNear(true);
