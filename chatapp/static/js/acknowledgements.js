// Announcements that must be acknowledged, in the pinned list of a class: a student's
// "I have read this" (or "You acknowledged this"), a moderator's live count with who has not
// acknowledged and "Remind those who have not". The server says each viewer's state (the
// page's data attributes, the join ack's `acknowledgements`) and refuses what it must; this
// only draws it. Text is written with textContent, never HTML.
import { _, ngettext } from "./i18n.js";
import { ackReminderText, notifyAckReminder } from "./notify.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function countText({ count, expected }) {
  return _("{count} of {total} acknowledged", { count, total: expected });
}

export class Acknowledgements {
  // request(event, payload): the ack of a classroom event; say(text): the classroom's status line.
  constructor({ socket, request, roomSlug, pinnedList, say }) {
    this.request = request;
    this.room = roomSlug;
    this.pinnedList = pinnedList;
    this.say = say;
    this.states = new Map(); // message id -> {acknowledged, may_acknowledge} or {count, expected}
    for (const li of pinnedList.querySelectorAll("li[data-needs-ack]")) {
      const data = li.dataset;
      this.states.set(
        Number(data.id),
        data.ackCount !== undefined
          ? { count: Number(data.ackCount), expected: Number(data.ackExpected) }
          : { acknowledged: data.acknowledged === "true", may_acknowledge: li.querySelector(".ack-button, .ack-done") !== null },
      );
    }
    socket.on("ack_count", ({ room, id, acknowledged, expected }) => {
      if (room !== this.room) return;
      this.states.set(id, { count: acknowledged, expected });
      this.draw(this.itemOf(id));
      if (this.isOpen(id)) this.loadPending(id);
    });
    socket.on("acknowledged", ({ room, id }) => {
      if (room !== this.room) return;
      const state = this.states.get(id) || {};
      this.states.set(id, { ...state, acknowledged: true, may_acknowledge: true });
      this.draw(this.itemOf(id));
    });
    socket.on("ack_reminder", (notice) => {
      const here = notice.room.slug === this.room;
      if (!here || document.hidden) notifyAckReminder(notice);
      this.say(here
        ? _("{name} reminds you to acknowledge the pinned announcement.", { name: notice.by.display_name })
        : ackReminderText(notice));
    });
  }

  itemOf(id) {
    return this.pinnedList.querySelector(`li[data-id="${id}"]`);
  }

  // After a (re)join: every viewer state, as the server has it now.
  replace(entries) {
    this.states = new Map((entries || []).map(({ id, ...state }) => [id, state]));
  }

  // Whether the viewer's state of message is known; unknown (just pinned): the caller rejoins to learn it.
  known(message) {
    return !message.needs_ack || this.states.has(message.id);
  }

  // Draw li's acknowledgement part from the state (pinned item li, for a MESSAGE or from the page).
  draw(li) {
    if (!li) return;
    const id = Number(li.dataset.id);
    const state = this.states.get(id);
    let box = li.querySelector(".ack");
    if (!state || !li.dataset.needsAck) {
      box?.remove();
      return;
    }
    if (!box) {
      box = el("div", "ack");
      li.append(box);
    }
    const sender = li.querySelector(".sender")?.textContent || "";
    if (state.count !== undefined) {
      this.drawCount(li, box, id, state);
      return;
    }
    li.dataset.acknowledged = state.acknowledged ? "true" : "false";
    if (state.acknowledged) {
      if (box.querySelector(".ack-done")) return;
      const done = el("span", "ack-done");
      done.setAttribute("role", "status");
      done.tabIndex = -1;
      const mark = el("span", null, "✓ ");
      mark.setAttribute("aria-hidden", "true");
      done.append(mark, document.createTextNode(_("You acknowledged this")));
      const hadFocus = box.contains(document.activeElement);
      box.replaceChildren(done);
      if (hadFocus) done.focus(); // the button the keyboard was on is gone: stay here
      return;
    }
    if (!state.may_acknowledge) {
      box.replaceChildren();
      return;
    }
    let ackButton = box.querySelector(".ack-button");
    if (!ackButton) {
      ackButton = el("button", "ack-button", _("I have read this"));
      ackButton.type = "button";
      box.replaceChildren(ackButton);
    }
    ackButton.setAttribute("aria-label", _("I have read this: the announcement from {sender}", { sender }));
    ackButton.onclick = () => this.acknowledge(li, id, ackButton);
  }

  async acknowledge(li, id, ackButton) {
    ackButton.disabled = true; // a second press would be the same acknowledgement anyway
    const ack = await this.request("acknowledge", { room: this.room, id });
    ackButton.disabled = false;
    if (!ack.ok) {
      this.say(ack.message || _("That did not work; try again."));
      return;
    }
    this.states.set(id, { acknowledged: true, may_acknowledge: true });
    this.draw(li);
  }

  drawCount(li, box, id, state) {
    let toggle = box.querySelector(".ack-count");
    if (!toggle) {
      toggle = el("button", "link ack-count");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", "false");
      toggle.append(el("span", "ack-count-text"));
      box.replaceChildren(toggle);
    }
    const text = toggle.querySelector(".ack-count-text");
    text.setAttribute("aria-live", "polite");
    text.textContent = countText(state);
    toggle.onclick = () => this.toggle(li, id, toggle);
  }

  isOpen(id) {
    return this.itemOf(id)?.querySelector(".ack-count")?.getAttribute("aria-expanded") === "true";
  }

  toggle(li, id, toggle) {
    const open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    let panel = li.querySelector(".ack-pending");
    if (!open) {
      if (panel) panel.hidden = true;
      return;
    }
    if (!panel) {
      panel = el("div", "ack-pending");
      panel.id = `ack-pending-${id}`;
      const heading = el("p", "ack-pending-title", _("Not acknowledged yet:"));
      const names = el("ul", "ack-pending-list");
      names.setAttribute("aria-label", _("Students who have not acknowledged"));
      const remind = el("button", "ack-remind", _("Remind those who have not"));
      remind.type = "button";
      remind.addEventListener("click", () => this.remind(id, panel, remind));
      const note = el("p", "ack-note");
      note.setAttribute("role", "status");
      panel.append(heading, names, remind, note);
      li.querySelector(".ack").append(panel);
      toggle.setAttribute("aria-controls", panel.id);
    }
    panel.hidden = false;
    this.loadPending(id);
  }

  async loadPending(id) {
    const ack = await this.request("ack_status", { room: this.room, id });
    const panel = this.itemOf(id)?.querySelector(".ack-pending");
    if (!panel) return;
    if (!ack.ok) {
      panel.querySelector(".ack-note").textContent = ack.message || _("That did not work; try again.");
      return;
    }
    this.states.set(id, { count: ack.acknowledged, expected: ack.expected });
    this.draw(this.itemOf(id));
    const names = panel.querySelector(".ack-pending-list");
    names.replaceChildren(...ack.pending.map((user) => el("li", null, user.display_name)));
    panel.querySelector(".ack-pending-title").textContent = ack.pending.length
      ? _("Not acknowledged yet:")
      : _("Every student has acknowledged it.");
    panel.querySelector(".ack-remind").hidden = ack.pending.length === 0;
  }

  async remind(id, panel, remind) {
    remind.disabled = true;
    const ack = await this.request("remind_ack", { room: this.room, id });
    remind.disabled = false;
    panel.querySelector(".ack-note").textContent = ack.ok
      ? ngettext("Reminded {n} student.", "Reminded {n} students.", ack.reminded, { n: ack.reminded })
      : ack.message || _("That did not work; try again.");
  }
}
