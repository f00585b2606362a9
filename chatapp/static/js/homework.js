// Homework pages (templates/rooms/assignments.html, assignment.html): each due time counts down in the
// viewer's language, and the teacher's table of students follows hand-ins live (`hand_in_updated`, sent to
// the class's moderators). Nothing here decides anything: the server's states and words are shown as sent.
import { io } from "/vendor/socket.io.esm.min.js";

const TICK_MS = 30 * 1000;
const UNITS = [["day", 86400], ["hour", 3600], ["minute", 60]];
const relative = new Intl.RelativeTimeFormat(document.documentElement.lang || undefined, { numeric: "auto" });

function countdown() {
  for (const due of document.querySelectorAll(".due[data-due]")) {
    const left = due.querySelector(".left");
    if (!left) continue;
    const seconds = (Date.parse(due.dataset.due) - Date.now()) / 1000;
    if (seconds <= 0) {
      left.textContent = due.dataset.past;
      continue;
    }
    const [unit, size] = UNITS.find(([, length]) => seconds >= length) || UNITS[UNITS.length - 1];
    left.textContent = relative.format(Math.max(1, Math.floor(seconds / size)), unit);
  }
}

function followHandIns(table) {
  const socket = io({ reconnectionDelay: 1000, reconnectionDelayMax: 10000, randomizationFactor: 0.5 });
  const assignmentId = Number(table.dataset.assignment);
  socket.on("connect", () => socket.emit("join", { room: table.dataset.room }, () => {}));
  socket.on("hand_in_updated", (event) => {
    if (event.room !== table.dataset.room || event.assignment_id !== assignmentId) return;
    const row = table.querySelector(`tr[data-student="${CSS.escape(event.student.user.username)}"]`);
    if (!row) return;
    row.dataset.state = event.student.state;
    row.querySelector(".state").textContent = table.dataset[event.student.state === "late" ? "late" : "handedIn"];
    row.querySelector(".submitted").textContent = new Date(event.student.submitted_at).toLocaleString(
      document.documentElement.lang || undefined, { dateStyle: "short", timeStyle: "short" });
    const open = row.querySelector(".open");
    open.replaceChildren();
    const link = document.createElement("a");
    link.href = `${table.dataset.handInBase}/${event.student.hand_in_id}`;
    link.textContent = table.dataset.open;
    open.append(link);
  });
}

countdown();
setInterval(countdown, TICK_MS);
const table = document.querySelector("table.hand-ins[data-room]");
if (table) followHandIns(table);
