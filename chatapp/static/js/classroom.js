// The classroom on the room page: pinned messages, questions, deleting messages, slow mode,
// mutes and announcement-only, and the moderator tools (toolbar, member actions, open
// questions, moderation log). room.js owns the socket and the message list and calls the
// hooks of Classroom; everything here writes text with textContent, never HTML.
// Who may do what is the server's to say: the page's data attributes and the join ack's
// `capabilities` (services/classroom.capabilities) tell it, and this script only reads them.
import { Acknowledgements } from "./acknowledgements.js";
import { _, language } from "./i18n.js";

const TICK_MS = 250;
// Several members coming online or changing roles at once: one rejoin asks for all their capabilities.
const REFRESH_MS = 500;
const LOG_PAGE = 30;
const MUTE_CHOICES = [
  [10, _("Mute for 10 minutes")],
  [60, _("Mute for 1 hour")],
  [24 * 60, _("Mute for 1 day")],
];
const ROLE_NAMES = { owner: _("owner"), moderator: _("moderator") };

const timeFormat = new Intl.DateTimeFormat(language(), { hour: "2-digit", minute: "2-digit" });
const dateTimeFormat = new Intl.DateTimeFormat(language(), { dateStyle: "medium", timeStyle: "short" });

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, className, onClick) {
  const node = el("button", className, text);
  node.type = "button";
  if (onClick) node.addEventListener("click", onClick);
  return node;
}

function seconds(value) {
  return value >= 60 && value % 60 === 0 ? _("{n} min", { n: value / 60 }) : _("{n} s", { n: value });
}

// The start of a text, for labels that must tell two similar controls apart.
function excerpt(text, length = 60) {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

function parseTime(text) {
  return text ? new Date(text) : null;
}

export class Classroom {
  // rejoin: join the room again (room.js's catch-up), whose ack carries fresh capabilities.
  constructor({ socket, request, rejoin, roomSlug, myId, list, form, input }) {
    this.socket = socket;
    this.request = request;
    this.rejoin = rejoin;
    this.room = roomSlug;
    this.myId = myId;
    this.list = list;
    this.form = form;
    this.input = input;
    const data = document.getElementById("classroom").dataset;
    this.role = data.role || null;
    this.mayModerate = data.mayModerate === "true";
    this.maySetRoles = data.maySetRoles === "true";
    this.limitsApply = data.postingLimitsApply === "true"; // announcement-only, mutes, slow mode (not for moderators)
    this.announcementOnly = data.announcementOnly === "true";
    this.slowMode = Number(data.slowMode) || 0;
    this.mutedUntil = parseTime(data.mutedUntil);
    this.deleteWindow = Number(data.deleteWindow) || 0;
    this.waitUntil = Date.now() + (Number(data.retryAfter) || 0) * 1000;
    this.removed = null; // "removed" | "banned" once a moderator took this user out
    // A site admin reading someone's direct messages: the server refuses their writes there.
    // Why this person cannot write here at all (the server's words: an archived class, an admin reading
    // direct messages), or "" when they can.
    this.readOnly = document.getElementById("room")?.dataset.readOnly || "";
    this.timer = null;
    this.refreshTimer = null;
    this.logOldest = null;

    this.sendButton = form.querySelector("button[type=submit]");
    this.askToggle = document.getElementById("ask-question");
    this.anonymousToggle = document.getElementById("ask-anonymously");
    this.closedNote = document.getElementById("composer-closed");
    this.mutedNote = document.getElementById("muted-note");
    this.waitLine = document.getElementById("send-wait");
    this.slowNote = document.getElementById("slow-mode-note");
    this.statusLine = document.getElementById("classroom-status");
    this.errorLine = document.getElementById("classroom-error");
    this.pinnedSection = document.getElementById("pinned");
    this.pinnedList = document.getElementById("pinned-list");
    this.memberList = document.getElementById("members");
    this.mayAskForAck = this.pinnedSection.dataset.mayAskForAck === "true";
    this.acks = new Acknowledgements({
      socket, request, roomSlug, pinnedList: this.pinnedList, say: (text) => this.say(text),
    });

    this.menu = this.buildMenu();
    this.wireSocket();
    // The page has the moderator panels only if it was rendered for a moderator (a new one reloads for them).
    this.hasModeratorPanels = document.getElementById("open-questions") !== null;
    if (this.mayModerate && this.hasModeratorPanels) this.wireModeratorTools();
    for (const li of list.querySelectorAll("li.msg[data-id]")) this.decorate(li, null);
    for (const li of this.pinnedList.querySelectorAll("li[data-id]")) this.decoratePinned(li);
    const muted = JSON.parse(data.mutedMembers || "{}");
    for (const li of this.memberList.querySelectorAll("li[data-user-id]")) {
      if (muted[li.dataset.userId]) this.showMuted(li, muted[li.dataset.userId]);
      this.decorateMember(li);
    }
    // room.js adds people to the member list as they come online.
    new MutationObserver((changes) => {
      for (const change of changes) for (const node of change.addedNodes) if (node.dataset?.userId) this.decorateMember(node);
    }).observe(this.memberList, { childList: true });
    this.updateComposer();
  }

  // ---- hooks called by room.js ---------------------------------------------------

  // After a (re)join: the room's settings, the pins, this user's own state and capabilities, as the server has them now.
  joined(ack) {
    const can = ack.capabilities;
    if (can) {
      this.limitsApply = can.posting_limits_apply;
      this.maySetRoles = can.may_set_roles;
      this.deleteWindow = can.delete_window_seconds || 0;
      if (can.may_moderate !== this.mayModerate) this.roleChanged(can.may_moderate);
    }
    if (ack.room) this.applyRoom(ack.room);
    if (can) this.mayAskForAck = Boolean(can.may_ask_for_ack);
    if (Array.isArray(ack.acknowledgements)) this.acks.replace(ack.acknowledgements);
    if (Array.isArray(ack.pinned)) this.replacePinned(ack.pinned);
    const me = ack.membership;
    if (me) {
      this.role = me.role;
      this.mutedUntil = parseTime(me.muted_until);
      this.waitUntil = Math.max(this.waitUntil, Date.now() + (me.retry_after || 0) * 1000);
    }
    if (can) this.applyMayActOn(new Set(can.may_act_on || []));
    this.updateComposer();
    if (this.mayModerate && this.hasModeratorPanels) {
      this.loadQuestions();
      this.loadLog();
      this.loadBans();
    }
  }

  // Whether the composer must not send now; the page already says why.
  sendBlocked() {
    this.updateComposer();
    return this.composerClosed() || this.isMuted() || this.waitLeft() > 0;
  }

  // Whether the next message goes out as a question; the toggle resets after each message.
  takeQuestion() {
    if (!this.askToggle?.checked && !this.anonymousAsked) return false;
    this.anonymousAsked = false;
    if (this.askToggle) this.askToggle.checked = false;
    return true;
  }

  // Whether the next message goes out as an anonymous question (which makes it a question too).
  takeAnonymous() {
    const label = document.getElementById("ask-anonymously-label");
    this.anonymousAsked = Boolean(this.anonymousToggle?.checked) && !label?.hidden;
    if (this.anonymousToggle) this.anonymousToggle.checked = false;
    return this.anonymousAsked;
  }

  // An own message was stored: in slow mode, the next one waits.
  sent() {
    if (this.slowMode > 0 && this.limitsApply) {
      this.waitUntil = Math.max(this.waitUntil, Date.now() + this.slowMode * 1000);
      this.updateComposer();
    }
  }

  // The server refused a send: learn from it (slow mode, a mute, announcement-only).
  refused(ack) {
    if (ack.error === "rate_limited" && ack.retry_after) {
      this.waitUntil = Math.max(this.waitUntil, Date.now() + ack.retry_after * 1000);
    }
    if (ack.error === "forbidden" && ack.muted_until) this.mutedUntil = parseTime(ack.muted_until);
    this.updateComposer();
  }

  // Show a message's classroom state (deleted, pinned, question) and its actions menu.
  // Called for server-rendered items (message null: the state is in data attributes) and
  // after room.js renders a MESSAGE; safe to call again on the same item.
  decorate(li, message) {
    if (!li || !li.dataset.id) return;
    if (message) {
      delete li.dataset.deleted;
      delete li.dataset.pinned;
      delete li.dataset.question;
      if (message.deleted) li.dataset.deleted = message.deleted_by || "author";
      else {
        if (message.pinned) li.dataset.pinned = "true";
        if (message.question) li.dataset.question = message.question.answered ? "answered" : "open";
      }
      if (message.question) this.updateQuestion(message); // a question sent as one arrives as a `message`
    }
    const meta = li.querySelector(".meta");
    if (!meta) return;
    if (message?.anonymous) this.labelAnonymous(li, message);
    meta.querySelectorAll(".pin-mark, .question-mark").forEach((mark) => mark.remove());
    if (li.dataset.deleted) {
      li.classList.add("deleted");
      const body = li.querySelector(".body");
      if (body) {
        body.replaceChildren(document.createTextNode(li.dataset.deleted === "moderator" ? _("Removed by a moderator") : _("Message deleted")));
        body.classList.add("tombstone");
      }
      li.querySelectorAll(".attachments, .edited, .edit-button").forEach((node) => node.remove());
      meta.querySelector(".msg-menu-button")?.remove();
      return;
    }
    // The marks go after the time (and "Sent", "edited"), before any buttons.
    let anchor = meta.querySelector(".edited") || meta.querySelector(".state") || meta.querySelector("time");
    const place = (mark) => {
      if (anchor) anchor.after(mark);
      else meta.append(mark);
      anchor = mark;
    };
    if (li.dataset.pinned) place(el("span", "mark pin-mark", _("Pinned")));
    if (li.dataset.question) {
      const answered = li.dataset.question === "answered";
      const mark = el("span", "mark question-mark", answered ? _("Question · Answered") : _("Question"));
      mark.dataset.answered = String(answered);
      place(mark);
    }
    // Moderators act on every message; others only on their own (delete, ask as a question).
    const own = Number(li.dataset.senderId) === this.myId;
    if ((this.mayModerate || own) && !meta.querySelector(".msg-menu-button") && !li.classList.contains("pending")) {
      const sender = li.querySelector(".sender")?.textContent || "";
      const open = button("⋯", "msg-menu-button", (event) => this.openMessageMenu(li, event.currentTarget));
      open.setAttribute("aria-label", _("Actions for the message from {sender}", { sender }));
      open.setAttribute("aria-haspopup", "menu");
      open.setAttribute("aria-expanded", "false");
      meta.append(open);
    }
  }

  // An anonymous question: the server sends its author only to the author and moderators
  // (sender.id null for everyone else), so the label says what this viewer was sent.
  labelAnonymous(li, message) {
    li.dataset.anonymous = "true";
    const name = li.querySelector(".meta .sender");
    if (!name) return;
    if (message.sender.id === null) {
      // Never over an author already shown (a moderator hears the room's copy, then the author's).
      if (!Number(li.dataset.senderId)) {
        li.dataset.senderId = "";
        name.textContent = _("Anonymous");
      }
      return;
    }
    li.dataset.senderId = String(message.sender.id);
    if (message.sender.id === this.myId) {
      li.classList.add("own");
      name.textContent = _("You, anonymously");
      return;
    }
    name.textContent = message.sender.display_name;
    if (!li.querySelector(".meta .anonymous-mark")) name.after(el("span", "mark anonymous-mark", _("anonymous to the class")));
  }

  // ---- the composer: announcement-only, mute, slow mode ------------------------------

  composerClosed() {
    return Boolean(this.readOnly) || Boolean(this.removed) || (this.announcementOnly && this.limitsApply);
  }

  isMuted() {
    return this.limitsApply && this.mutedUntil !== null && this.mutedUntil.getTime() > Date.now();
  }

  waitLeft() {
    if (!this.limitsApply) return 0;
    return Math.max(0, Math.ceil((this.waitUntil - Date.now()) / 1000));
  }

  updateComposer() {
    clearTimeout(this.timer);
    const atEnd = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 120;
    const layoutBefore = this.layoutKey();
    const closed = this.composerClosed();
    const muted = this.isMuted();
    // Closed (announcement-only, removed) or muted: a note stands where the composer was.
    this.form.hidden = closed || muted;
    this.closedNote.hidden = !closed;
    if (this.readOnly) {
      this.closedNote.textContent = this.readOnly;
    } else if (this.removed) {
      this.closedNote.textContent = this.removed === "banned"
        ? _("A moderator banned you from this room.")
        : _("A moderator removed you from this room.");
    } else {
      this.closedNote.textContent = _("This room is announcement-only: only its moderators can post.");
    }
    this.mutedNote.hidden = !muted || closed;
    if (muted) this.mutedNote.textContent = _("A moderator muted you in this room until {time}.", { time: timeFormat.format(this.mutedUntil) });
    const wait = this.waitLeft();
    this.waitLine.hidden = wait === 0 || closed || muted;
    if (wait > 0) this.waitLine.textContent = _("You can send again in {n} s", { n: wait });
    this.slowNote.hidden = !(this.slowMode > 0) || !this.limitsApply || closed || muted;
    if (this.slowMode > 0) this.slowNote.textContent = _("Slow mode is on: one message every {duration}.", { duration: seconds(this.slowMode) });
    this.sendButton.disabled = closed || muted || wait > 0;
    if (!closed && (muted || wait > 0)) this.timer = setTimeout(() => this.updateComposer(), TICK_MS);
    if (atEnd && this.layoutKey() !== layoutBefore) this.list.scrollTop = this.list.scrollHeight;
  }

  // Which notes around the composer show: when it changes, the log's height does too.
  layoutKey() {
    return [this.form, this.closedNote, this.mutedNote, this.waitLine, this.slowNote].map((node) => (node.hidden ? 0 : 1)).join("");
  }

  applyRoom(room) {
    if (room.slug !== this.room) return;
    // Archived or restored (the end of term): the whole page changes (read-only, its tools), so the
    // server draws it anew (a message still waiting in the outbox is then refused in words).
    if (Boolean(room.archived_at) !== Boolean(document.getElementById("room")?.dataset.archived)) {
      location.reload();
      return;
    }
    const wasSlow = this.slowMode;
    this.announcementOnly = Boolean(room.announcement_only);
    this.slowMode = room.slow_mode_seconds || 0;
    if (this.slowMode === 0) this.waitUntil = 0;
    else if (this.slowMode < wasSlow) this.waitUntil = Math.min(this.waitUntil, Date.now() + this.slowMode * 1000);
    const toggle = document.getElementById("announcement-only");
    if (toggle) toggle.checked = this.announcementOnly;
    const anonymous = document.getElementById("allow-anonymous");
    if (anonymous) anonymous.checked = Boolean(room.allow_anonymous_questions);
    const askAnonymously = document.getElementById("ask-anonymously-label");
    if (askAnonymously) askAnonymously.hidden = !room.allow_anonymous_questions;
    const select = document.getElementById("slow-mode");
    if (select) {
      if (![...select.options].some((option) => Number(option.value) === this.slowMode)) {
        select.append(new Option(seconds(this.slowMode), String(this.slowMode)));
      }
      select.value = String(this.slowMode);
    }
    this.updateComposer();
  }

  roleChanged(moderator) {
    this.say(
      moderator
        ? _("You are now a moderator of this room. Reload the page to get the moderator tools.")
        : _("You are no longer a moderator of this room. Reload the page."),
    );
    this.mayModerate = moderator;
  }

  // The server's answer to "may I act on this member?" went stale (a role changed) or was never
  // given (they came online after the last join): a rejoin brings it, with the rest, fresh.
  refreshCapabilities() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.rejoin?.(), REFRESH_MS);
  }

  applyMayActOn(ids) {
    for (const li of this.memberList.querySelectorAll("li[data-user-id]")) {
      const may = this.mayModerate && ids.has(Number(li.dataset.userId));
      if (li.dataset.mayActOn === String(may)) continue;
      li.dataset.mayActOn = String(may);
      li.querySelector(".member-menu-button")?.remove();
      this.decorateMember(li);
    }
  }

  say(text) {
    this.statusLine.textContent = text;
  }

  fail(ack) {
    this.errorLine.textContent = ack.message || _("That did not work; try again.");
    this.errorLine.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      this.errorLine.hidden = true;
    }, 8000);
  }

  async act(event, payload) {
    this.errorLine.hidden = true;
    const ack = await this.request(event, { room: this.room, ...payload });
    if (!ack.ok) this.fail(ack);
    return ack;
  }

  // ---- server events -------------------------------------------------------------

  wireSocket() {
    this.socket.on("message_updated", (message) => {
      if (message.room !== this.room) return;
      const li = this.item(message.id);
      const before = li?.dataset.question;
      if (li) this.decorate(li, message);
      this.updatePinned(message);
      this.updateQuestion(message);
      if (message.sender.id === this.myId && message.question?.answered && before === "open") {
        this.say(_("Your question was marked answered."));
      }
    });
    this.socket.on("message_deleted", ({ room, id, by }) => {
      if (room !== this.room) return;
      const li = this.item(id);
      if (li) this.decorate(li, { id, deleted: true, deleted_by: by });
      this.removePinned(id);
      this.removeQuestion(id);
    });
    this.socket.on("room_updated", (room) => this.applyRoom(room));
    this.socket.on("member_updated", ({ room, member }) => {
      if (room !== this.room) return;
      if (member.user.id === this.myId) {
        this.mutedUntil = parseTime(member.muted_until);
        // A new role may bring new powers (or take them away): the server says which, at the rejoin.
        if (member.role !== this.role) {
          this.role = member.role;
          this.refreshCapabilities();
        }
        this.updateComposer();
        if (this.isMuted()) this.say("");
      }
      this.showMember(member);
    });
    this.socket.on("member_removed", ({ room, user, banned }) => {
      if (room !== this.room) return;
      if (user.id === this.myId) {
        this.removed = banned ? "banned" : "removed";
        this.updateComposer();
        return;
      }
      this.memberList.querySelector(`li[data-user-id="${user.id}"]`)?.remove();
    });
    this.socket.on("moderation_action", (entry) => {
      if (entry.room !== this.room || !this.mayModerate) return;
      this.addLogEntry(entry, { prepend: true });
      if ((entry.action === "ban" || entry.action === "unban") && this.hasModeratorPanels) this.loadBans();
    });
    this.socket.on("join_code", (code) => {
      if (code.room === this.room) this.showJoinCode(code);
    });
  }

  item(id) {
    return this.list.querySelector(`li.msg[data-id="${id}"]`);
  }

  // ---- the message menu ------------------------------------------------------------

  buildMenu() {
    const menu = el("div", "popup-menu");
    menu.setAttribute("role", "menu");
    menu.hidden = true;
    menu.addEventListener("keydown", (event) => {
      const items = [...menu.querySelectorAll("button")];
      const index = items.indexOf(document.activeElement);
      if (event.key === "Escape") {
        event.preventDefault();
        this.closeMenu(true);
      } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        items[(index + step + items.length) % items.length]?.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (!menu.hidden && !menu.contains(event.target) && event.target !== this.menuOpener) this.closeMenu(false);
    });
    document.body.append(menu);
    return menu;
  }

  closeMenu(refocus) {
    this.menu.hidden = true;
    this.menu.replaceChildren();
    if (this.menuOpener) {
      this.menuOpener.setAttribute("aria-expanded", "false");
      if (refocus) this.menuOpener.focus();
    }
    this.menuOpener = null;
  }

  // items: [label, handler, {confirm: "label of the second click"}?]
  openMenu(opener, label, items) {
    if (this.menuOpener === opener) return this.closeMenu(true);
    this.closeMenu(false);
    if (!items.length) return undefined;
    this.menuOpener = opener;
    opener.setAttribute("aria-expanded", "true");
    this.menu.setAttribute("aria-label", label);
    for (const [text, handler, options] of items) {
      const item = button(text, "menu-item");
      item.setAttribute("role", "menuitem");
      item.addEventListener("click", async () => {
        if (options?.confirm && item.dataset.armed !== "true") {
          item.dataset.armed = "true";
          item.textContent = options.confirm;
          item.classList.add("danger");
          return;
        }
        this.closeMenu(true);
        await handler();
      });
      this.menu.append(item);
    }
    const box = opener.getBoundingClientRect();
    this.menu.hidden = false;
    const width = this.menu.offsetWidth;
    const left = Math.max(8, Math.min(window.innerWidth - width - 8, box.right - width));
    const below = box.bottom + 4;
    const top = below + this.menu.offsetHeight > window.innerHeight - 8 ? Math.max(8, box.top - this.menu.offsetHeight - 4) : below;
    this.menu.style.left = `${left + window.scrollX}px`;
    this.menu.style.top = `${top + window.scrollY}px`;
    this.menu.querySelector("button")?.focus();
    return undefined;
  }

  openMessageMenu(li, opener) {
    const id = Number(li.dataset.id);
    const own = Number(li.dataset.senderId) === this.myId;
    const sender = li.querySelector(".sender")?.textContent || "";
    const items = [];
    if (this.mayModerate) {
      if (li.dataset.pinned) items.push([_("Unpin"), () => this.act("unpin", { id }).then((ack) => this.applyAck(ack))]);
      else items.push([_("Pin to the top"), () => this.act("pin", { id }).then((ack) => this.applyAck(ack))]);
      if (this.mayAskForAck && !li.dataset.pinned) {
        items.push([_("Pin, asking students to acknowledge"), () => this.act("pin", { id, needs_ack: true }).then((ack) => this.applyAck(ack))]);
      }
    }
    if (own && !li.dataset.question) {
      items.push([_("Ask as a question"), () => this.act("mark_question", { id, question: true }).then((ack) => this.applyAck(ack))]);
    } else if (own && li.dataset.question === "open" && !li.dataset.anonymous) {
      items.push([_("Withdraw question"), () => this.act("mark_question", { id, question: false }).then((ack) => this.applyAck(ack))]);
    }
    if (this.mayModerate && li.dataset.anonymous && !own) {
      // The server finds the author from the message: this page need not know who it is.
      items.push([_("Mute the author for 10 minutes"), () => this.act("mute", { id, minutes: 10 }).then((ack) => {
        if (ack.ok) this.say(_("The author of that question is muted for 10 minutes."));
      })]);
    }
    if (this.mayModerate && li.dataset.question === "open") {
      items.push([_("Mark answered"), () => this.answer(id, true)]);
    } else if (this.mayModerate && li.dataset.question === "answered") {
      items.push([_("Reopen question"), () => this.answer(id, false)]);
    }
    // The delete window is the one that binds this viewer (none for moderators), as the server says it.
    if (this.mayModerate || (own && this.withinDeleteWindow(li))) {
      items.push([own ? _("Delete") : _("Remove message"), () => this.deleteMessage(id), { confirm: own ? _("Delete: are you sure?") : _("Remove: are you sure?") }]);
    }
    if (!items.length) {
      this.say(_("Nothing to do with this message: you can delete your own messages only for a while after sending them."));
      return;
    }
    this.openMenu(opener, _("Actions for the message from {sender}", { sender }), items);
  }

  withinDeleteWindow(li) {
    if (this.deleteWindow <= 0) return true;
    const sent = li.querySelector("time[datetime]")?.dateTime;
    return sent ? Date.now() - new Date(sent).getTime() < this.deleteWindow * 1000 : true;
  }

  applyAck(ack) {
    if (!ack.ok || !ack.message) return;
    const li = this.item(ack.message.id);
    if (li) this.decorate(li, ack.message);
    this.updatePinned(ack.message);
    this.updateQuestion(ack.message);
  }

  async deleteMessage(id) {
    const ack = await this.act("delete_message", { id });
    if (!ack.ok) return;
    const li = this.item(id);
    if (li) this.decorate(li, ack.message);
    this.removePinned(id);
    this.removeQuestion(id);
  }

  async answer(id, answered) {
    const ack = await this.act("answer_question", { id, answered });
    this.applyAck(ack);
  }

  // ---- pinned messages -----------------------------------------------------------------

  replacePinned(messages) {
    this.pinnedList.replaceChildren();
    for (const message of messages) this.updatePinned(message);
    this.pinnedSection.hidden = this.pinnedList.children.length === 0;
  }

  updatePinned(message) {
    const existing = this.pinnedList.querySelector(`li[data-id="${message.id}"]`);
    if (!message.pinned || message.deleted) {
      this.removePinned(message.id);
      return;
    }
    const li = el("li");
    li.dataset.id = String(message.id);
    li.append(el("span", "sender", message.sender.display_name), document.createTextNode(" "), el("span", "pinned-body", message.body));
    if (message.needs_ack) li.dataset.needsAck = "true";
    this.decoratePinned(li);
    if (!this.acks.known(message)) this.refreshCapabilities(); // newly asking: the rejoin says this viewer's state
    if (existing) existing.replaceWith(li);
    else this.pinnedList.append(li);
    this.pinnedSection.hidden = false;
  }

  decoratePinned(li) {
    const jump = () => {
      li.classList.toggle("expanded"); // on a phone a pin shows two lines until tapped
      const target = this.item(li.dataset.id);
      if (!target) return;
      target.scrollIntoView({ block: "center" });
      target.classList.add("highlight");
      setTimeout(() => target.classList.remove("highlight"), 2000);
    };
    li.querySelector(".pinned-body")?.addEventListener("click", jump);
    this.acks.draw(li);
    if (!this.mayModerate || li.querySelector(".unpin-button")) return;
    const sender = li.querySelector(".sender")?.textContent || "";
    const unpin = button(_("Unpin"), "link unpin-button", async () => {
      const ack = await this.act("unpin", { id: Number(li.dataset.id) });
      this.applyAck(ack);
    });
    unpin.setAttribute("aria-label", _("Unpin the message from {sender}", { sender }));
    li.append(unpin);
  }

  removePinned(id) {
    this.pinnedList.querySelector(`li[data-id="${id}"]`)?.remove();
    this.pinnedSection.hidden = this.pinnedList.children.length === 0;
  }

  // ---- open questions (moderators) -------------------------------------------------------

  async loadQuestions() {
    const ack = await this.request("open_questions", { room: this.room });
    if (!ack.ok) return;
    const listNode = document.getElementById("open-questions");
    listNode.replaceChildren();
    for (const message of ack.questions) this.updateQuestion(message);
    this.countQuestions();
  }

  updateQuestion(message) {
    const listNode = document.getElementById("open-questions");
    if (!listNode) return;
    const open = message.question && !message.question.answered && !message.deleted;
    const existing = listNode.querySelector(`li[data-id="${message.id}"]`);
    if (!open) {
      existing?.remove();
      this.countQuestions();
      return;
    }
    const li = el("li");
    li.dataset.id = String(message.id);
    const meta = el("p", "q-meta");
    const when = new Date(message.created_at);
    const time = el("time", "", timeFormat.format(when));
    time.dateTime = message.created_at;
    // An anonymous question's author, once shown, stays when the room's copy (without it) follows.
    const name = message.sender.display_name || existing?.dataset.author || _("Anonymous");
    if (message.sender.display_name) li.dataset.author = name;
    else if (existing?.dataset.author) li.dataset.author = existing.dataset.author;
    meta.append(el("span", "sender", name), document.createTextNode(" "));
    if (message.anonymous) meta.append(el("span", "mark anonymous-mark", _("anonymous to the class")), document.createTextNode(" "));
    meta.append(time);
    const answer = button(_("Mark answered"), "answer-button");
    answer.dataset.id = String(message.id);
    answer.setAttribute("aria-label", _("Mark answered: {name}, “{text}”", { name, text: excerpt(message.body) }));
    li.append(meta, el("p", "q-body", message.body), answer);
    if (existing) existing.replaceWith(li);
    else {
      const next = [...listNode.children].find((item) => Number(item.dataset.id) > message.id);
      listNode.insertBefore(li, next || null);
    }
    this.countQuestions();
  }

  removeQuestion(id) {
    document.getElementById("open-questions")?.querySelector(`li[data-id="${id}"]`)?.remove();
    this.countQuestions();
  }

  countQuestions() {
    const listNode = document.getElementById("open-questions");
    if (!listNode) return;
    const count = listNode.children.length;
    document.getElementById("questions-count").textContent = String(count);
    document.getElementById("questions-empty").hidden = count > 0;
  }

  // ---- the moderator toolbar, members, log and bans ----------------------------------------

  wireModeratorTools() {
    const status = document.getElementById("mod-status");
    const toggle = document.getElementById("announcement-only");
    toggle.addEventListener("change", async () => {
      const wanted = toggle.checked;
      const ack = await this.act("room_settings", { announcement_only: wanted });
      if (!ack.ok) {
        toggle.checked = !wanted;
        return;
      }
      this.applyRoom(ack.room);
      status.textContent = wanted ? _("Announcement-only is on: only moderators can post.") : _("Announcement-only is off: everyone can post.");
    });
    const anonymous = document.getElementById("allow-anonymous");
    anonymous?.addEventListener("change", async () => {
      const wanted = anonymous.checked;
      const ack = await this.act("room_settings", { allow_anonymous_questions: wanted });
      if (!ack.ok) {
        anonymous.checked = !wanted;
        return;
      }
      this.applyRoom(ack.room);
      status.textContent = wanted ? _("Anonymous questions are allowed: the class does not see who asked.") : _("Anonymous questions are off.");
    });
    const slow = document.getElementById("slow-mode");
    slow.addEventListener("change", async () => {
      const wanted = Number(slow.value);
      const ack = await this.act("room_settings", { slow_mode_seconds: wanted });
      if (!ack.ok) {
        slow.value = String(this.slowMode);
        return;
      }
      this.applyRoom(ack.room);
      status.textContent = wanted ? _("Slow mode is on: one message every {duration} per member.", { duration: seconds(wanted) }) : _("Slow mode is off.");
    });
    const regenerate = document.getElementById("regenerate-code");
    regenerate?.addEventListener("click", async () => {
      const validity = document.getElementById("code-validity").value;
      regenerate.disabled = true;
      const ack = await this.act("regenerate_join_code", validity ? { valid_minutes: Number(validity) } : {});
      regenerate.disabled = false;
      if (!ack.ok) return;
      this.showJoinCode(ack);
      status.textContent = _("New join code: {code}. The old one no longer works.", { code: ack.join_code });
    });
    document.getElementById("open-questions").addEventListener("click", (event) => {
      const target = event.target.closest(".answer-button");
      if (target) this.answer(Number(target.dataset.id), true);
    });
    document.getElementById("modlog-more").addEventListener("click", () => this.loadLog({ older: true }));
    // On a phone the toolbar folds away under its summary, to leave room for the conversation.
    if (window.matchMedia("(max-width: 720px)").matches) document.getElementById("mod-tools").open = false;
  }

  showJoinCode({ join_code: code, join_code_expires_at: expiresAt }) {
    const codeNode = document.getElementById("join-code");
    if (codeNode) codeNode.textContent = code;
    const link = document.getElementById("join-link");
    if (link) link.href = `/join/${encodeURIComponent(code)}`;
    const expiry = document.getElementById("join-code-expiry");
    if (expiry) expiry.textContent = expiresAt ? _("(expires {when})", { when: dateTimeFormat.format(new Date(expiresAt)) }) : "";
  }

  // The ⋯ menu on the members this viewer may act on: the server's may_act_on, per member.
  decorateMember(li) {
    if (!this.mayModerate || li.querySelector(".member-menu-button")) return;
    if (li.dataset.mayActOn === undefined) {
      this.refreshCapabilities();
      return;
    }
    if (li.dataset.mayActOn !== "true") return;
    const name = li.querySelector(".name")?.textContent || "";
    const open = button("⋯", "member-menu-button", (event) => this.openMemberMenu(li, event.currentTarget));
    open.setAttribute("aria-label", _("Moderate {name}", { name }));
    open.setAttribute("aria-haspopup", "menu");
    open.setAttribute("aria-expanded", "false");
    li.querySelector(".presence-label")?.before(open) ?? li.append(open);
  }

  openMemberMenu(li, opener) {
    const userId = Number(li.dataset.userId);
    const name = li.querySelector(".name")?.textContent || "";
    const role = li.dataset.role || "member";
    const items = [];
    if (li.dataset.muted === "true") items.push([_("Unmute"), () => this.memberAction("unmute", { user_id: userId })]);
    for (const [minutes, text] of MUTE_CHOICES) {
      items.push([text, () => this.memberAction("mute", { user_id: userId, minutes })]);
    }
    if (this.maySetRoles) {
      if (role === "moderator") items.push([_("Make a member again"), () => this.memberAction("set_member_role", { user_id: userId, role: "member" })]);
      else items.push([_("Make moderator"), () => this.memberAction("set_member_role", { user_id: userId, role: "moderator" })]);
    }
    items.push([_("Remove from the room"), () => this.memberAction("remove_member", { user_id: userId }), { confirm: _("Remove {name}: are you sure?", { name }) }]);
    items.push([_("Ban from the room"), () => this.memberAction("ban", { user_id: userId }), { confirm: _("Ban {name}: are you sure?", { name }) }]);
    this.openMenu(opener, _("Moderate {name}", { name }), items);
  }

  async memberAction(event, payload) {
    const ack = await this.act(event, payload);
    if (!ack.ok) return;
    if (ack.member) this.showMember(ack.member);
    if (event === "remove_member" || event === "ban") {
      this.memberList.querySelector(`li[data-user-id="${payload.user_id}"]`)?.remove();
    }
  }

  showMember(member) {
    const li = this.memberList.querySelector(`li[data-user-id="${member.user.id}"]`);
    if (!li) return;
    // Another role, another answer to "may I act on them?": ask the server again.
    if (li.dataset.role !== member.role) delete li.dataset.mayActOn;
    li.dataset.role = member.role;
    let badge = li.querySelector(".badge");
    if (member.role === "member") badge?.remove();
    else {
      if (!badge) {
        badge = el("span", "badge");
        li.querySelector(".name").after(badge);
      }
      badge.textContent = ROLE_NAMES[member.role] || member.role;
    }
    this.showMuted(li, member.muted_until);
    li.querySelector(".member-menu-button")?.remove();
    this.decorateMember(li);
  }

  // A moderator sees who is muted, until when; the badge goes when the mute ends.
  showMuted(li, mutedUntil) {
    const until = mutedUntil ? new Date(mutedUntil) : null;
    const muted = until !== null && until.getTime() > Date.now();
    li.dataset.muted = muted ? "true" : "false";
    li.querySelector(".muted-badge")?.remove();
    if (!muted || !this.mayModerate) return;
    const mark = el("span", "badge muted-badge", _("muted until {time}", { time: timeFormat.format(until) }));
    li.querySelector(".name").after(mark);
    const left = until.getTime() - Date.now();
    if (left < 2 ** 31) setTimeout(() => this.showMuted(li, mutedUntil), left + 500);
  }

  async loadLog({ older = false } = {}) {
    const payload = { room: this.room, limit: LOG_PAGE };
    if (older && this.logOldest !== null) payload.before = this.logOldest;
    const ack = await this.request("moderation_log", payload);
    if (!ack.ok) return;
    const logList = document.getElementById("modlog");
    if (!older) logList.replaceChildren();
    for (const entry of ack.actions) this.addLogEntry(entry, { prepend: false });
    document.getElementById("modlog-more").hidden = !ack.more;
  }

  addLogEntry(entry, { prepend }) {
    const logList = document.getElementById("modlog");
    if (!logList || logList.querySelector(`li[data-id="${entry.id}"]`)) return;
    const li = el("li");
    li.dataset.id = String(entry.id);
    li.dataset.action = entry.action;
    const when = new Date(entry.created_at);
    const time = el("time", "", timeFormat.format(when));
    time.dateTime = entry.created_at;
    time.title = dateTimeFormat.format(when);
    li.append(time, document.createTextNode(" "), el("span", "log-text", describe(entry)));
    if (prepend) logList.prepend(li);
    else logList.append(li);
    this.logOldest = this.logOldest === null ? entry.id : Math.min(this.logOldest, entry.id);
    document.getElementById("modlog-empty").hidden = true;
  }

  async loadBans() {
    const ack = await this.request("bans", { room: this.room });
    if (!ack.ok) return;
    const banList = document.getElementById("ban-list");
    banList.replaceChildren();
    for (const ban of ack.bans) {
      const li = el("li");
      li.append(el("span", "name", ban.user.display_name));
      const lift = button(_("Unban"), "link", async () => {
        const result = await this.act("unban", { user_id: ban.user.id });
        if (result.ok) li.remove();
        document.getElementById("bans-empty").hidden = banList.children.length > 0;
      });
      lift.setAttribute("aria-label", _("Unban {name}", { name: ban.user.display_name }));
      li.append(document.createTextNode(" "), lift);
      banList.append(li);
    }
    document.getElementById("bans-empty").hidden = ack.bans.length > 0;
    document.getElementById("modlog-empty").hidden = document.getElementById("modlog").children.length > 0;
  }
}

// One line of the moderation log, in words.
export function describe(entry) {
  const actor = entry.actor?.display_name || _("Someone");
  const target = entry.target_user?.display_name || _("someone");
  const detail = entry.detail || {};
  switch (entry.action) {
    case "settings": {
      const parts = [];
      if ("announcement_only" in detail) {
        parts.push(detail.announcement_only ? _("turned announcement-only on") : _("turned announcement-only off"));
      }
      if ("slow_mode_seconds" in detail) {
        parts.push(detail.slow_mode_seconds
          ? _("set slow mode to {duration}", { duration: seconds(detail.slow_mode_seconds) })
          : _("turned slow mode off"));
      }
      const actions = parts.length ? new Intl.ListFormat(language()).format(parts) : _("changed the settings");
      return _("{actor} {actions}", { actor, actions });
    }
    case "join_code":
      return detail.expires_at
        ? _("{actor} made a new join code (valid until {when})", { actor, when: dateTimeFormat.format(new Date(detail.expires_at)) })
        : _("{actor} made a new join code", { actor });
    case "pin":
      return _("{actor} pinned a message by {target}", { actor, target });
    case "unpin":
      return _("{actor} unpinned a message by {target}", { actor, target });
    case "delete_message":
      return detail.excerpt
        ? _("{actor} removed a message by {target}: “{text}”", { actor, target, text: detail.excerpt })
        : _("{actor} removed a message by {target}", { actor, target });
    case "mute": {
      const minutes = detail.minutes;
      const duration = minutes >= 60 && minutes % 60 === 0 ? _("{n} h", { n: minutes / 60 }) : _("{n} min", { n: minutes });
      return _("{actor} muted {target} for {duration}", { actor, target, duration });
    }
    case "unmute":
      return _("{actor} unmuted {target}", { actor, target });
    case "remove":
      return _("{actor} removed {target} from the room", { actor, target });
    case "ban":
      return detail.reason
        ? _("{actor} banned {target}: {reason}", { actor, target, reason: detail.reason })
        : _("{actor} banned {target}", { actor, target });
    case "unban":
      return _("{actor} lifted the ban on {target}", { actor, target });
    case "set_role":
      return detail.role === "moderator"
        ? _("{actor} made {target} a moderator", { actor, target })
        : _("{actor} made {target} a member again", { actor, target });
    case "answer_question":
      return _("{actor} marked a question from {target} answered", { actor, target });
    case "reopen_question":
      return _("{actor} reopened a question from {target}", { actor, target });
    default:
      return `${actor}: ${entry.action}`;
  }
}
