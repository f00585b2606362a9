// The support widget's chat, inside the iframe the loader puts on a website. It talks to the
// loader on the host page with postMessage (origins checked both ways), gets a visitor token
// from POST /widget/api/session, and chats over Socket.IO as that visitor.
// Delivery (outbox, retries, catch-up, placing by id) is delivery.js's; this script draws.
import { Delivery, bodyLimit, openSocket } from "./delivery.js";
import { TypingDisplay, TypingSender, bindEnterToSend, request } from "./chatkit.js";
import { _, language } from "./i18n.js";
import { ReplyBar, addReplyButton, bindQuoteJumps, loadingOlder } from "./replies.js";
import { Reactions } from "./reactions.js";

const TYPING_IDLE_MS = 3000;
const TYPING_SHOWN_MS = 6000;
// Ask for the desk's hours again at the time the server said they change, and at least this
// often (a lead may edit the schedule meanwhile; timers also stall while a laptop sleeps).
const HOURS_RECHECK_MAX_MS = 60 * 60 * 1000;
// A visitor's clock may run ahead of the server's: then the server still says "closed, opens at
// changes_at" when asked at that moment, and the widget asks again after this pause, not at once.
const HOURS_RECHECK_MIN_MS = 10 * 1000;

const root = document.getElementById("widget");
const siteKey = root.dataset.siteKey;
// The pages that may talk to this frame: chatapp's own (the demo) and the site's origins.
const allowedOrigins = new Set([location.origin, ...root.dataset.origins.split(" ").filter(Boolean)]);
const TOKEN_KEY = `chatapp.visitor.${siteKey}`;
const PRECHAT_KEY = `chatapp.prechat.${siteKey}`;

const agentsLine = document.getElementById("agents");
const olderButton = document.getElementById("load-older");
const statusLine = document.getElementById("status");
const list = document.getElementById("messages");
const emptyNote = document.getElementById("empty");
const typingLine = document.getElementById("typing");
const prechatForm = document.getElementById("prechat");
const prechatError = document.getElementById("prechat-error");
const composer = document.getElementById("composer");
const input = document.getElementById("message-input");
const sendButton = composer.querySelector("button");
const composerError = document.getElementById("composer-error");
const resolvedBox = document.getElementById("resolved");
const assignmentLine = document.getElementById("assignment");
const ratingForm = document.getElementById("rating");
const ratingError = document.getElementById("rating-error");
const ratingThanks = document.getElementById("rating-thanks");
const awayForm = document.getElementById("away-email");
const awayInput = document.getElementById("away-email-input");
const awayError = document.getElementById("away-email-error");
const awaySaved = document.getElementById("away-email-saved");
const transcriptBox = document.getElementById("transcript");
const transcriptButton = document.getElementById("transcript-button");
const transcriptStatus = document.getElementById("transcript-status");

const embedded = window.parent !== window;
let hostOrigin = null; // the host page's origin, once its loader introduced itself
let hostInit = null; // {page, identity, name, email} from the loader
let panelOpen = !embedded; // on its own (not framed) the chat is always in view
let session = null; // the last answer of /widget/api/session
let conversation = null;
let socket = null;
let thread = null;
let unread = 0;
let started = false;
let agentsOnline = false;
let hours = null; // HOURS: the desk's business hours as the server last answered them
let hoursTimer = null;
const typing = new TypingSender({ socket: () => socket, idleMs: TYPING_IDLE_MS });
const typers = new TypingDisplay(typingLine, { shownMs: TYPING_SHOWN_MS });
// Replies: the visitor answers a particular message; a quote leads to what it quotes.
const replies = new ReplyBar({ form: composer, input });
bindQuoteJumps(list, { missing: loadingOlder(list, () => thread, olderButton) });
// Emoji reactions, the agents' and the visitor's own (reactions.js); whether the visitor may react is
// the join ack's answer. Who the visitor is comes with the session (connect()).
const reactions = new Reactions({ request: (event, payload) => request(socket, event, payload), list, room: () => conversation?.room });

// ---- storage (may be blocked in third-party frames: then the chat lasts as long as the page)

const memory = new Map();
function load(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return memory.get(key) ?? null;
  }
}
function save(key, value) {
  try {
    if (value == null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    if (value == null) memory.delete(key);
    else memory.set(key, value);
  }
}

// The link in an e-mail of replies opens this page with the visitor's token: go on as them.
if (root.dataset.resumeToken) save(TOKEN_KEY, root.dataset.resumeToken);

// ---- the host page ------------------------------------------------------------

function tellHost(type, data = {}) {
  if (embedded && hostOrigin) window.parent.postMessage({ chatapp: "widget", type, ...data }, hostOrigin);
}

function text(value, max) {
  return typeof value === "string" && value.trim() ? value.trim().slice(0, max) : null;
}

window.addEventListener("message", (event) => {
  if (!embedded || event.source !== window.parent || !allowedOrigins.has(event.origin)) return;
  const data = event.data;
  if (!data || data.chatapp !== "loader") return;
  if (data.type === "init" && !hostInit) {
    hostOrigin = event.origin;
    const identity = data.identity && typeof data.identity === "object" ? data.identity : null;
    hostInit = {
      page: text(data.page, 2000),
      name: text(data.name, 64),
      email: text(data.email, 254),
      identity: identity ? { user_id: String(identity.user_id), hmac: String(identity.hmac) } : null,
    };
    panelOpen = Boolean(data.open);
    start();
  } else if (data.type === "visibility" && event.origin === hostOrigin) {
    panelOpen = Boolean(data.open);
    if (panelOpen) {
      markRead();
      if (!prechatForm.hidden) document.getElementById("prechat-name").focus();
      else if (!input.disabled) input.focus();
    }
  }
});

if (embedded) {
  // The loader answers with "init". "ready" carries nothing, so any origin may hear it.
  window.parent.postMessage({ chatapp: "widget", type: "ready" }, "*");
} else {
  hostInit = { page: null, name: null, email: null, identity: null };
  start();
}

document.addEventListener("keydown", (event) => {
  if (event.key === "Escape") tellHost("close");
});
document.getElementById("close-button").addEventListener("click", () => tellHost("close"));
if (!embedded) document.getElementById("close-button").hidden = true;

// ---- the session ----------------------------------------------------------------

// state: "online" (nothing to say), "reconnecting", or "offline" (a reload or a new session is needed).
function showStatus(message, state = message ? "offline" : "online") {
  statusLine.dataset.state = state;
  statusLine.textContent = message || "";
  statusLine.hidden = !message;
}

async function postSession(body) {
  try {
    const response = await fetch("/widget/api/session", {
      method: "POST",
      // The frame's language, so that the server's errors speak it too (no cookie is sent).
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": language() },
      body: JSON.stringify(body),
      credentials: "omit",
    });
    return await response.json();
  } catch {
    return { ok: false, error: "network", message: _("Cannot reach the chat right now. Trying again…") };
  }
}

function sessionRequest(extra = {}) {
  const body = { site_key: siteKey, ...extra };
  const token = load(TOKEN_KEY);
  if (token) body.visitor_token = token;
  if (hostInit.page) body.page_url = hostInit.page;
  if (hostInit.identity) body.identity = hostInit.identity;
  if (hostInit.name && !extra.name) body.name = hostInit.name;
  if (hostInit.email && !extra.email) body.email = hostInit.email;
  return body;
}

async function openSession(extra = {}) {
  let answer = await postSession(sessionRequest(extra));
  if (!answer.ok && answer.error === "unauthorized" && load(TOKEN_KEY)) {
    // An old or foreign token: start afresh as a new visitor.
    save(TOKEN_KEY, null);
    answer = await postSession(sessionRequest(extra));
  }
  return answer;
}

async function start(attempt = 0) {
  if (started && attempt === 0) return;
  started = true;
  const answer = await openSession();
  if (!answer.ok) {
    showStatus(answer.message);
    if (answer.error === "network" || answer.error === "rate_limited") {
      setTimeout(() => start(attempt + 1), Math.min(30000, 2000 * 2 ** attempt));
    }
    return;
  }
  showStatus("");
  applySession(answer);
  connect();
}

function applySession(answer) {
  session = answer;
  save(TOKEN_KEY, answer.visitor_token);
  tellHost("notify", { token: answer.notify_token });
  setAgents(answer.agents_online);
  setHours(answer.hours);
  setConversation(answer.conversation);
  // The server sends a transcript only to an address the visitor gave: offer it once there is one.
  transcriptBox.hidden = !answer.contact.email;
  if (!panelOpen && answer.conversation.unread) {
    unread = answer.conversation.unread;
    tellHost("unread", { count: unread });
  }
}

// ---- what the visitor sees ------------------------------------------------------

function setAgents(online) {
  agentsOnline = online;
  showDesk();
}

function deskAway() {
  return Boolean(hours && !hours.open);
}

// The line under the site's name: outside business hours, when the desk opens again (this comes
// first); otherwise whether an agent is online.
function showDesk() {
  const away = deskAway();
  let line;
  if (away) line = awayNotice(hours);
  else if (agentsOnline) line = _("We're online. Ask us anything.");
  else line = _("No one is online right now. Leave a message and we'll reply here as soon as we're back.");
  agentsLine.dataset.online = away ? "away" : agentsOnline ? "yes" : "no";
  // A status region: screen readers announce a change, so do not rewrite the same words.
  if (agentsLine.textContent !== line) agentsLine.textContent = line;
}

// The opening time in the site's time zone, written in the frame's language.
function awayNotice({ opens_at: opensAt, timezone }) {
  if (!opensAt) return _("We're away now. Leave a message and we'll reply here.");
  const when = new Date(opensAt);
  // A browser whose time-zone data lacks the zone shows the same moment in its own zone, named.
  const timeZone = knownZone(timezone) ? timezone : undefined;
  const day = new Intl.DateTimeFormat(language(), { timeZone, weekday: "long", month: "long", day: "numeric" });
  const clock = new Intl.DateTimeFormat(language(), { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const zonePart = new Intl.DateTimeFormat(language(), { timeZone, timeZoneName: "longGeneric" })
    .formatToParts(when).find((part) => part.type === "timeZoneName");
  return _("We're away now. We open again on {day} at {time} ({zone}). Leave a message and we'll reply then.", {
    day: day.format(when), time: clock.format(when), zone: zonePart ? zonePart.value : timezone,
  });
}

function knownZone(timeZone) {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone });
    return true;
  } catch {
    return false;
  }
}

function setHours(answer) {
  hours = answer;
  showDesk();
  showAwayEmail();
  if (conversation) setAssignment(conversation);
  clearTimeout(hoursTimer);
  const changesIn = hours.changes_at ? Date.parse(hours.changes_at) - Date.now() : Infinity;
  hoursTimer = setTimeout(askHours, Math.max(HOURS_RECHECK_MIN_MS, Math.min(changesIn, HOURS_RECHECK_MAX_MS)));
}

async function askHours() {
  if (!socket?.connected) return; // asked again on connect
  const ack = await request(socket, "support_hours", {});
  if (ack.ok) setHours(ack.hours);
}

function showAwayEmail() {
  awayForm.hidden = !hours?.ask_email || !prechatForm.hidden;
}

// Who answers: the server says whether the conversation waits for an agent, and who has it.
// While the desk is away its notice says when the answer comes, not "shortly".
function setAssignment(summary) {
  let text = "";
  if (summary.waiting) text = deskAway() ? "" : _("An agent will be with you shortly.");
  else if (summary.assignee && summary.status !== "resolved") {
    text = _("{name} is helping you.", { name: summary.assignee.display_name });
  }
  if (assignmentLine.textContent !== text) assignmentLine.textContent = text; // a status region: no repeats
  assignmentLine.hidden = !text;
}

function setConversation(summary) {
  conversation = summary;
  setAssignment(summary);
  const resolved = summary.status === "resolved";
  resolvedBox.hidden = !resolved;
  if (resolved) {
    const rated = summary.rating != null;
    ratingForm.hidden = rated;
    ratingThanks.hidden = !rated;
    if (rated) ratingThanks.textContent = _("You rated our help {rating} out of 5. Thank you!", { rating: summary.rating });
  }
}

function prechatNeeded() {
  const prechat = session.site.prechat;
  if (!prechat.enabled) return false;
  const contact = session.contact;
  if ((prechat.name_required && !contact.name) || (prechat.email_required && !contact.email)) return true;
  // Optional fields: asked once, before the first message.
  return !contact.name && !contact.email && list.children.length === 0 && !load(PRECHAT_KEY);
}

function updateLayout() {
  const asking = session && prechatNeeded();
  prechatForm.hidden = !asking;
  composer.hidden = Boolean(asking); // the form comes first; then the message box
  input.disabled = sendButton.disabled = Boolean(asking) || !session;
  emptyNote.hidden = list.children.length > 0 || asking;
  showAwayEmail();
}

prechatForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = prechatForm.elements.name.value.trim();
  const email = prechatForm.elements.email.value.trim();
  const prechat = session.site.prechat;
  const noName = prechat.name_required && !name;
  const noEmail = prechat.email_required && !email;
  if (noName || noEmail) {
    if (noName && noEmail) prechatError.textContent = _("Please give your name and your e-mail address.");
    else prechatError.textContent = noName ? _("Please give your name.") : _("Please give your e-mail address.");
    prechatError.hidden = false;
    return;
  }
  prechatError.hidden = true;
  const answer = await openSession({ name: name || undefined, email: email || undefined });
  if (!answer.ok) {
    prechatError.textContent = answer.message;
    prechatError.hidden = false;
    return;
  }
  save(PRECHAT_KEY, "done");
  applySession(answer);
  updateLayout();
  input.focus();
});

function showAwayError(message) {
  awayError.textContent = message;
  awayError.hidden = !message;
  if (message) awayInput.setAttribute("aria-invalid", "true");
  else awayInput.removeAttribute("aria-invalid");
}

awayForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const email = awayInput.value.trim();
  const answer = email
    ? await openSession({ email })
    : { ok: false, message: _("Type your e-mail address, like name@example.com, or just write your message.") };
  if (!answer.ok) {
    showAwayError(answer.message);
    awayInput.focus();
    return;
  }
  showAwayError("");
  applySession(answer);
  awaySaved.textContent = _("Thank you. We will answer at {email}.", { email: answer.contact.email });
  awaySaved.hidden = false;
  input.focus();
});

transcriptButton.addEventListener("click", async () => {
  transcriptButton.disabled = true;
  let answer;
  try {
    const response = await fetch("/widget/api/transcript", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": language() },
      body: JSON.stringify({ visitor_token: session.visitor_token }),
      credentials: "omit",
    });
    answer = await response.json();
  } catch {
    answer = { ok: false, message: _("Cannot reach the chat right now. Try again in a moment.") };
  }
  transcriptButton.disabled = false;
  transcriptStatus.dataset.ok = String(answer.ok);
  transcriptStatus.textContent = answer.ok
    ? _("On its way to {email}. It can take a minute to arrive.", { email: answer.email })
    : answer.message;
});

// ---- the conversation -----------------------------------------------------------

function connect() {
  socket = openSocket({ auth: { visitor_token: session.visitor_token } });
  reactions.myId = session.visitor.id;
  thread = new Delivery({
    socket,
    list,
    myId: session.visitor.id,
    room: conversation.room,
    receiptFrom: (receipt) => !receipt.visitor, // an agent read it
    view: {
      label: (message) => (message.sender.id === session.visitor.id ? _("You") : message.sender.display_name),
      placed(li, message) {
        addReplyButton(li, replies);
        reactions.decorate(li, message);
      },
      joined: (ack) => reactions.joined(ack),
      updated: (message) => reactions.redraw(message),
      deleted: ({ id }) => reactions.removed(id),
      changed: updateLayout,
      older: (more) => { olderButton.hidden = !more; },
    },
  });

  socket.on("connect", async () => {
    showStatus("");
    const ack = await thread.joinAndCatchUp();
    if (!ack.ok) {
      if (ack.error !== "timeout") showStatus(ack.message);
      return;
    }
    updateLayout();
    thread.scrollToEnd();
    if (panelOpen) markRead();
    askHours(); // the desk may have opened or closed while this socket was away
  });

  socket.on("disconnect", (reason) => {
    if (reason === "io server disconnect") showStatus(_("The chat was closed by the server. Reload the page to start again."));
    else showStatus(_("Connection lost. Reconnecting…"), "reconnecting");
  });

  socket.on("connect_error", (error) => {
    if (error?.data?.error === "unauthorized") {
      // The token is no longer accepted (expired, or the site was reset): start afresh.
      socket.disconnect();
      save(TOKEN_KEY, null);
      started = false;
      start();
      return;
    }
    if (socket.active) showStatus(_("Cannot reach the chat. Reconnecting…"), "reconnecting");
    else showStatus(error?.data?.message || _("The chat refused the connection."));
  });

  socket.on("message", (message) => {
    const atEnd = thread.nearEnd();
    if (!thread.render(message)) return;
    if (message.sender.id !== session.visitor.id) {
      typers.clear(message.sender.id);
      if (panelOpen && document.visibilityState === "visible") markRead();
      else {
        unread += 1;
        tellHost("unread", { count: unread });
      }
    }
    if (atEnd || message.sender.id === session.visitor.id) thread.scrollToEnd();
  });

  socket.on("agents_online", ({ online }) => setAgents(online));
  socket.on("conversation", (summary) => {
    if (summary.room === conversation.room) setConversation(summary);
  });
  socket.on("typing", ({ room, user, typing: active }) => {
    if (room !== conversation.room || user.id === session.visitor.id) return;
    typers.update(user, active);
  });
}

async function markRead() {
  if (!socket?.connected || !thread) return;
  const lastId = thread.lastId();
  unread = 0;
  tellHost("unread", { count: 0 });
  if (lastId) await request(socket, "read", { room: conversation.room, last_id: lastId });
}

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && panelOpen) markRead();
});

// ---- writing --------------------------------------------------------------------

function submit() {
  const body = input.value.trim();
  composerError.hidden = true;
  if (!body || !thread) return;
  const max = bodyLimit(input);
  if (body.length > max) {
    composerError.textContent = _("A message can be at most {max} characters; this one has {length}.", { max, length: body.length });
    composerError.hidden = false;
    return;
  }
  const replyTo = replies.take();
  thread.submit(body, replyTo ? { reply_to: replyTo } : {});
  input.value = "";
  typing.stop();
}

bindEnterToSend(composer, input, submit);
typing.watch(input, () => conversation?.room);

olderButton.addEventListener("click", () => thread?.loadOlder(olderButton));

// ---- rating ---------------------------------------------------------------------

ratingForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const choice = ratingForm.querySelector("input[name=rating]:checked");
  if (!choice) {
    ratingError.textContent = _("Choose from 1 to 5 stars.");
    ratingError.hidden = false;
    return;
  }
  const comment = document.getElementById("rating-comment").value.trim();
  const payload = { room: conversation.room, rating: Number(choice.value) };
  if (comment) payload.comment = comment;
  const ack = await request(socket, "support_rate", payload);
  if (!ack.ok) {
    ratingError.textContent = ack.message;
    ratingError.hidden = false;
    return;
  }
  ratingError.hidden = true;
  setConversation(ack.conversation);
});
