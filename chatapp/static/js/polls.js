// Polls on the room page: a poll's message is drawn with its options, a Vote button and its
// results as bars with counts and percentages. What this viewer sees and may do (vote, close,
// download) is the server's POLL_VIEW (`poll_view`, asked once for each poll shown and again on
// every join); live changes come as `message_updated` (the room's view) and, to moderators,
// `poll_results` (the counts they always see). The moderators' "New poll" form posts `create_poll`.
import { _ } from "./i18n.js";

export class Polls {
  constructor({ socket, request, list, roomSlug }) {
    this.request = request;
    this.list = list;
    this.roomSlug = roomSlug;
    this.views = new Map(); // poll id -> the latest POLL_VIEW
    this.timers = new Map();
    socket.on("poll_results", (event) => {
      if (event.room !== this.roomSlug) return;
      const view = this.views.get(event.poll.id);
      if (view) this.show({ ...view, poll: event.poll });
    });
    list.addEventListener("submit", (event) => this.submitted(event));
    list.addEventListener("click", (event) => this.clicked(event));
    for (const box of list.querySelectorAll(".poll[data-poll-id]")) this.refresh(Number(box.dataset.pollId));
  }

  // A message placed or updated (live or by a catch-up): its poll follows the room's view, keeping
  // what only this viewer's POLL_VIEW says (their votes, a moderator's counts while hidden).
  decorate(li, message) {
    if (!message.poll || message.deleted) {
      li.querySelector(".poll")?.remove();
      return;
    }
    const box = this.box(li, message.poll.id);
    const view = this.views.get(message.poll.id);
    if (!view) {
      this.refresh(message.poll.id);
      return;
    }
    const poll = message.poll.results_shown || !view.poll.results_shown ? message.poll : { ...view.poll, closed: message.poll.closed };
    this.show({ ...view, poll, may_vote: view.may_vote && !message.poll.closed, may_close: view.may_close && !message.poll.closed }, box);
  }

  // After a (re)join: every poll shown is asked again, so what was missed while away is drawn.
  joined() {
    for (const box of this.list.querySelectorAll(".poll[data-poll-id]")) this.refresh(Number(box.dataset.pollId));
  }

  async refresh(pollId) {
    const ack = await this.request("poll_view", { room: this.roomSlug, poll_id: pollId });
    if (ack.ok) this.show(ack);
  }

  box(li, pollId) {
    let box = li.querySelector(".poll");
    if (!box) {
      box = document.createElement("div");
      box.className = "poll";
      (li.querySelector(".body") || li.querySelector(".meta")).after(box);
    }
    box.dataset.pollId = String(pollId);
    return box;
  }

  show(view, box = null) {
    const poll = view.poll;
    this.views.set(poll.id, view);
    const li = this.list.querySelector(`li.msg[data-id="${view.message_id}"]`);
    const target = box || (li ? this.box(li, poll.id) : null);
    if (!target) return;
    this.draw(target, view);
    this.scheduleClose(poll);
  }

  // A time limit closes the poll by itself: ask again when it is reached.
  scheduleClose(poll) {
    clearTimeout(this.timers.get(poll.id));
    if (poll.closed || !poll.closes_at) return;
    const wait = Date.parse(poll.closes_at) - Date.now();
    if (wait < 2 ** 31) this.timers.set(poll.id, setTimeout(() => this.refresh(poll.id), Math.max(wait, 0) + 500));
  }

  draw(box, view) {
    const poll = view.poll;
    const focused = box.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
    box.replaceChildren();
    box.dataset.closed = poll.closed ? "true" : "false";
    const form = document.createElement("form");
    form.className = "poll-form";
    const fieldset = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = poll.question;
    legend.className = "visually-hidden"; // the message's body shows the question already
    fieldset.append(legend);
    const total = poll.options.reduce((sum, option) => sum + (option.count || 0), 0);
    const results = document.createElement("div");
    results.className = "poll-results";
    results.setAttribute("aria-live", "polite");
    for (const option of poll.options) {
      const row = document.createElement("div");
      row.className = "poll-option";
      const label = document.createElement("label");
      const input = document.createElement("input");
      input.type = poll.multiple ? "checkbox" : "radio";
      input.name = `poll-${poll.id}`;
      input.value = String(option.id);
      input.dataset.focusKey = `option-${option.id}`;
      input.checked = view.my_votes.includes(option.id);
      input.disabled = !view.may_vote;
      label.append(input, " ", option.text);
      row.append(label);
      fieldset.append(row);
      if (option.count !== undefined) {
        const share = total ? Math.round((100 * option.count) / total) : 0;
        const line = document.createElement("div");
        line.className = "poll-result";
        const name = document.createElement("span");
        name.className = "poll-result-text";
        name.textContent = _("{option}: {count} ({percent}%)", { option: option.text, count: option.count, percent: share });
        const bar = document.createElement("span");
        bar.className = "poll-bar";
        bar.setAttribute("aria-hidden", "true");
        const fill = document.createElement("span");
        fill.style.width = `${share}%`;
        bar.append(fill);
        line.append(name, bar);
        results.append(line);
      }
    }
    form.append(fieldset);
    const state = document.createElement("p");
    state.className = "poll-state";
    state.textContent = this.stateText(poll);
    results.prepend(state);
    const actions = document.createElement("div");
    actions.className = "poll-actions";
    if (view.may_vote) actions.append(this.button(view.my_votes.length ? _("Change vote") : _("Vote"), "submit", "vote"));
    if (view.may_close) actions.append(this.button(_("Close poll"), "button", "close"));
    if (view.may_export) {
      const link = document.createElement("a");
      link.href = `/rooms/${encodeURIComponent(this.roomSlug)}/polls/${poll.id}/results.csv`;
      link.textContent = _("Download results (CSV)");
      actions.append(link);
    }
    const error = document.createElement("p");
    error.className = "poll-error";
    error.setAttribute("role", "alert");
    form.append(actions, error);
    box.append(form, results);
    if (focused) box.querySelector(`[data-focus-key="${focused}"]`)?.focus();
  }

  button(text, type, key) {
    const button = document.createElement("button");
    button.type = type;
    button.textContent = text;
    button.dataset.focusKey = key;
    button.className = `poll-${key}`;
    return button;
  }

  stateText(poll) {
    const votes = poll.voters === undefined ? "" : " " + _("{n} voted.", { n: poll.voters });
    if (poll.closed) return _("Poll closed.") + votes;
    let text = poll.results_shown ? _("Results are live.") : _("Results are shown when the poll closes.");
    if (poll.closes_at) text += " " + _("Closes at {time}.", { time: new Date(poll.closes_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) });
    return text + votes;
  }

  pollOf(element) {
    const box = element.closest(".poll[data-poll-id]");
    return box ? { box, pollId: Number(box.dataset.pollId) } : null;
  }

  async submitted(event) {
    const found = this.pollOf(event.target);
    if (!found) return;
    event.preventDefault();
    const chosen = Array.from(found.box.querySelectorAll("input:checked"), (input) => Number(input.value));
    const ack = await this.request("poll_vote", { room: this.roomSlug, poll_id: found.pollId, options: chosen });
    this.answered(found.box, ack);
  }

  async clicked(event) {
    const button = event.target.closest("button.poll-close");
    const found = button && this.pollOf(button);
    if (!found) return;
    const ack = await this.request("poll_close", { room: this.roomSlug, poll_id: found.pollId });
    this.answered(found.box, ack);
  }

  answered(box, ack) {
    if (ack.ok) this.show(ack);
    else {
      const error = box.querySelector(".poll-error");
      if (error) error.textContent = ack.message;
    }
  }
}

// The moderators' "New poll" form (templates/rooms/_classroom_tools.html), if the page has it.
export function bindPollForm({ request, roomSlug }) {
  const form = document.getElementById("poll-create");
  if (!form) return;
  const status = document.getElementById("poll-create-status");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const minutes = Number(data.get("minutes")) || null;
    const payload = {
      room: roomSlug,
      question: String(data.get("question") || ""),
      options: String(data.get("options") || "").split("\n"),
      multiple: data.get("multiple") === "on",
      anonymous: data.get("anonymous") === "on",
      hidden_until_closed: data.get("hidden") === "on",
      minutes,
      client_id: `poll-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`,
    };
    status.textContent = _("Posting the poll…");
    const ack = await request("create_poll", payload);
    if (ack.ok) {
      form.reset();
      status.textContent = _("Poll posted.");
      const tools = form.closest("details");
      if (tools) tools.open = false; // the room, with the poll just posted, back in view
    } else {
      status.textContent = ack.message;
    }
  });
}
