// Emoji reactions on every surface that lists messages (the room page, the console, the widget):
// under each message a row of its reactions (one's own pressed) and an "Add reaction" button with
// the six most used ones. The server renders the same row on the room page
// (templates/rooms/_reactions.html); whether this viewer may react is the page's and the join
// ack's `may_react`, never worked out here. Each surface hands its Delivery's hooks (placed,
// updated, deleted, joined) to decorate(), redraw(), removed() and joined(): live changes and those
// a catch-up replays arrive the same way.
import { _, ngettext } from "./i18n.js";

// The six most used reactions, one click away (any single emoji is accepted by the server).
const QUICK = ["👍", "❤️", "😂", "🎉", "😮", "🙏"];
// How many names a button's name says; its title says all REACTIONS gives (at most 20).
const LABEL_NAMES = 2;
const TITLE_NAMES = 20;

// Who gave one emoji, in words: "Alice", "Alice and Bob", "Alice, Bob and 3 others" (the server's words).
export function reactedBy(group, most) {
  const names = group.users.slice(0, most).map((user) => user.display_name);
  const others = group.count - names.length;
  const separator = _(", "); // Chinese lists names with 、
  if (others > 0) {
    return ngettext("{names} and {num} other", "{names} and {num} others", others, { names: names.join(separator), num: others });
  }
  if (names.length === 1) return names[0];
  return _("{names} and {last}", { names: names.slice(0, -1).join(separator), last: names.at(-1) });
}

export class Reactions {
  // request(event, payload): the ack; room(): the slug of the room shown (the console switches);
  // myId: whose reactions are pressed (the widget knows it once its session is open);
  // mayReact: what the page says, until a join ack says again.
  constructor({ request, list, room, myId = null, mayReact = false }) {
    this.request = request;
    this.room = room;
    this.myId = myId;
    this.list = list;
    this.mayReact = mayReact;
    this.picker = this.buildPicker();
    list.addEventListener("click", (event) => this.clicked(event));
  }

  item(id) {
    return this.list.querySelector(`li.msg[data-id="${id}"]`);
  }

  // ---- drawing -------------------------------------------------------------------

  // Bring a stored message's reaction row up to date with MESSAGE (none on a deleted one). Buttons
  // still there are updated in place, so that focus stays where it was while others react.
  decorate(li, message) {
    let row = li.querySelector(".reactions");
    if (message.deleted) {
      row?.remove();
      return;
    }
    if (!row) {
      row = document.createElement("div");
      row.className = "reactions";
      const after = li.querySelector(".attachments") || li.querySelector(".body") || li.querySelector(".meta");
      after.after(row);
    }
    const shown = new Map(Array.from(row.querySelectorAll("button.reaction"), (button) => [button.dataset.emoji, button]));
    const groups = message.reactions || [];
    for (const [emoji, button] of shown) {
      if (!groups.some((group) => group.emoji === emoji)) button.remove();
    }
    const add = row.querySelector(".add-reaction");
    if (this.mayReact && !add) row.append(this.addButton());
    else if (!this.mayReact) add?.remove();
    for (const group of groups) {
      const button = shown.get(group.emoji) || document.createElement("button");
      this.fill(button, group);
      if (!button.isConnected) row.insertBefore(button, row.querySelector(".add-reaction, .reaction-picker"));
    }
  }

  // message_updated (live, or replayed by a catch-up): its row follows.
  redraw(message) {
    const li = this.item(message.id);
    if (li) this.decorate(li, message);
  }

  // message_deleted: a deleted message shows no reactions.
  removed(id) {
    this.item(id)?.querySelector(".reactions")?.remove();
  }

  // One emoji's button, as _reactions.html renders it: pressed if one's own, named with who gave it.
  fill(button, group) {
    const mine = group.user_ids.includes(this.myId);
    button.type = "button";
    button.className = mine ? "reaction mine" : "reaction";
    button.dataset.emoji = group.emoji;
    button.setAttribute("aria-pressed", String(mine));
    button.setAttribute("aria-label", _("{emoji} {count}: {who}", {
      emoji: group.emoji, count: group.count, who: reactedBy(group, LABEL_NAMES),
    }));
    button.title = reactedBy(group, TITLE_NAMES);
    button.disabled = !this.mayReact;
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = String(group.count);
    button.replaceChildren(`${group.emoji} `, count);
  }

  addButton() {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "add-reaction";
    button.setAttribute("aria-label", _("Add reaction"));
    button.title = _("Add reaction");
    button.setAttribute("aria-haspopup", "true");
    button.setAttribute("aria-expanded", "false");
    const face = document.createElement("span");
    face.setAttribute("aria-hidden", "true");
    face.textContent = "☺+";
    button.append(face);
    return button;
  }

  // After a (re)join: the server says again whether this viewer may react (a mute may have begun or ended).
  joined(ack) {
    const may = ack.capabilities?.may_react;
    if (typeof may !== "boolean" || may === this.mayReact) return;
    this.mayReact = may;
    for (const row of this.list.querySelectorAll("li.msg[data-id] .reactions")) {
      row.querySelectorAll("button.reaction").forEach((button) => { button.disabled = !may; });
      const add = row.querySelector(".add-reaction");
      if (may && !add) row.append(this.addButton());
      if (!may) add?.remove();
    }
    if (!may) this.closePicker(false);
  }

  // ---- reacting --------------------------------------------------------------------

  clicked(event) {
    const button = event.target.closest("button.reaction, button.add-reaction");
    if (!button || !this.list.contains(button)) return;
    const li = button.closest("li.msg[data-id]");
    if (!li) return;
    if (button.classList.contains("add-reaction")) {
      if (this.picker.hidden || this.picker.parentElement !== button.parentElement) this.openPicker(button);
      else this.closePicker();
      return;
    }
    this.send(li, button.dataset.emoji, button.getAttribute("aria-pressed") !== "true");
  }

  async send(li, emoji, on) {
    const id = Number(li.dataset.id);
    const ack = await this.request("react", { room: this.room(), id, emoji, on });
    if (!li.isConnected) return; // another conversation was opened meanwhile (the console)
    li.querySelector(".reaction-error")?.remove();
    if (!ack.ok) {
      const error = document.createElement("p");
      error.className = "field-error reaction-error";
      error.setAttribute("role", "alert");
      error.textContent = ack.message;
      li.append(error);
      setTimeout(() => error.remove(), 8000);
      return;
    }
    // The room hears `message_updated` too; the ack brings this page up to date at once.
    const wasFocused = li.contains(document.activeElement);
    this.decorate(li, { id, reactions: ack.reactions });
    if (wasFocused || document.activeElement === document.body) {
      // The button pressed may have gone (the last of its emoji): keep the keyboard in the row.
      const pressed = li.querySelector(`button.reaction[data-emoji="${CSS.escape(emoji)}"]`);
      if (!li.contains(document.activeElement)) (pressed || li.querySelector(".add-reaction"))?.focus();
    }
  }

  // ---- the six quick reactions ------------------------------------------------------

  buildPicker() {
    const picker = document.createElement("div");
    picker.className = "reaction-picker";
    picker.setAttribute("role", "group");
    picker.setAttribute("aria-label", _("Choose a reaction"));
    picker.hidden = true;
    for (const emoji of QUICK) {
      const choice = document.createElement("button");
      choice.type = "button";
      choice.className = "emoji";
      choice.textContent = emoji;
      choice.setAttribute("aria-label", _("React with {emoji}", { emoji }));
      choice.addEventListener("click", (event) => {
        event.stopPropagation();
        const li = picker.closest("li.msg[data-id]");
        this.closePicker(false);
        if (li) this.send(li, emoji, true);
      });
      picker.append(choice);
    }
    picker.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation(); // it closes the picker only, not the widget's panel around it
        this.closePicker();
      }
    });
    // Tabbing out of it, or clicking elsewhere, closes it.
    picker.addEventListener("focusout", (event) => {
      if (!picker.contains(event.relatedTarget) && event.relatedTarget !== this.opener) this.closePicker(false);
    });
    document.addEventListener("click", (event) => {
      if (!picker.hidden && !picker.contains(event.target) && event.target.closest(".add-reaction") !== this.opener) {
        this.closePicker(false);
      }
    });
    return picker;
  }

  openPicker(button) {
    this.closePicker(false);
    this.opener = button;
    button.after(this.picker);
    this.picker.hidden = false;
    button.setAttribute("aria-expanded", "true");
    this.picker.querySelector("button").focus();
  }

  closePicker(returnFocus = true) {
    if (this.picker.hidden) return;
    this.picker.hidden = true;
    const opener = this.opener;
    this.opener = null;
    if (opener?.isConnected) {
      opener.setAttribute("aria-expanded", "false");
      if (returnFocus) opener.focus();
    }
  }
}
