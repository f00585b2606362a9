// The console's availability: this agent's own status (online or away, one click, kept by the
// server across reloads), everyone's status live (`agent_status`), and telling the server that
// the agent is at the keyboard, at most every `activity_seconds` (the server decides when an
// idle console counts as away; this script only reports and shows).
import { request } from "./chatkit.js";
import { _, pgettext } from "./i18n.js";

const STATUS_NAMES = {
  online: pgettext("agent status", "Online"),
  away: pgettext("agent status", "Away"),
  offline: pgettext("agent status", "Offline"),
};

export class Availability {
  constructor({ socket, myId }) {
    this.socket = socket;
    this.myId = myId;
    this.agents = new Map(); // user id -> AGENT_STATUS
    this.activityMs = 60_000;
    this.lastReport = 0;
    this.select = document.getElementById("my-status");
    this.note = document.getElementById("my-status-note");
    this.teamList = document.getElementById("team-list");
    this.teamSummary = document.getElementById("team-summary");
    this.error = document.getElementById("my-status-error");
    socket.on("agent_status", (agent) => this.set(agent));
    this.select.addEventListener("change", () => this.choose(this.select.value));
    for (const name of ["keydown", "pointerdown", "focusin"]) {
      document.addEventListener(name, () => this.reportActivity(), { passive: true, capture: true });
    }
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden) this.reportActivity();
    });
  }

  // From the support_list ack: every agent's status, and how often to report activity.
  update(ack) {
    if (!ack.agents) return;
    this.activityMs = Math.max(5, ack.activity_seconds || 60) * 1000;
    this.lastReport = Date.now(); // listing the queue counted as activity on the server
    this.agents.clear();
    for (const agent of ack.agents) this.agents.set(agent.user.id, agent);
    this.render();
  }

  set(agent) {
    this.agents.set(agent.user.id, agent);
    this.render();
  }

  async choose(choice) {
    this.error.hidden = true;
    const ack = await request(this.socket, "support_availability", { status: choice });
    if (!ack.ok) {
      this.error.textContent = ack.message;
      this.error.hidden = false;
      this.render();
      return;
    }
    const mine = this.agents.get(this.myId);
    if (mine) this.set({ ...mine, status: ack.status, choice: ack.choice });
  }

  toggle() {
    const mine = this.agents.get(this.myId);
    this.choose(mine && mine.choice === "away" ? "online" : "away");
  }

  reportActivity() {
    const now = Date.now();
    if (now - this.lastReport < this.activityMs || !this.socket.connected) return;
    this.lastReport = now;
    request(this.socket, "support_active", {}).then((ack) => {
      const mine = this.agents.get(this.myId);
      if (ack.ok && mine && mine.status !== ack.status) this.set({ ...mine, status: ack.status });
    });
  }

  render() {
    const mine = this.agents.get(this.myId);
    if (mine) {
      this.select.value = mine.choice;
      this.note.dataset.status = mine.status;
      this.note.textContent = mine.status === "away" && mine.choice === "online"
        ? _("Away: no activity for a while. You get no new conversations until you are back.")
        : mine.status === "away"
          ? _("Away: you get no new conversations.")
          : _("Online: new conversations can be assigned to you.");
    }
    const agents = Array.from(this.agents.values());
    const online = agents.filter((agent) => agent.status === "online").length;
    this.teamSummary.textContent = _("Agents: {online} of {count} online", { online, count: agents.length });
    this.teamList.replaceChildren(...agents.map((agent) => {
      const li = document.createElement("li");
      li.dataset.userId = String(agent.user.id);
      li.dataset.status = agent.status;
      const dot = document.createElement("span");
      dot.className = `presence-dot ${agent.status}`;
      dot.setAttribute("aria-hidden", "true");
      const name = document.createElement("span");
      name.className = "team-name";
      name.textContent = agent.user.id === this.myId ? _("{name} (you)", { name: agent.user.display_name })
        : agent.user.display_name;
      const state = document.createElement("span");
      state.className = "team-state";
      state.textContent = STATUS_NAMES[agent.status] || agent.status;
      li.append(dot, name, state);
      return li;
    }));
  }
}

// Keyboard: Alt+↓ / Alt+↑ open the next / previous conversation of the list, Alt+A switches
// between online and away; anywhere on the page, also while typing a reply.
export function bindShortcuts({ availability, queueList }) {
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      const buttons = Array.from(queueList.querySelectorAll("button.queue-item"));
      if (!buttons.length) return;
      event.preventDefault();
      const at = buttons.findIndex((button) => button.getAttribute("aria-current") === "true");
      const step = event.key === "ArrowDown" ? 1 : -1;
      const next = at < 0 ? (step > 0 ? 0 : buttons.length - 1) : (at + step + buttons.length) % buttons.length;
      buttons[next].click();
      buttons[next].focus();
    } else if (event.code === "KeyA" && !event.shiftKey) {
      event.preventDefault(); // on a Mac, Option+A would type "å"
      availability.toggle();
    }
  });
}
