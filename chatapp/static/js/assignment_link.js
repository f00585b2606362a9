// A message that carries homework (MESSAGE's `assignment`, docs/protocol.md "Homework") gets a line
// under its text: a link to the assignment's page, where students hand in, and its due time in the
// viewer's language. The server renders the same line (templates/rooms/_message.html).
import { _ } from "./i18n.js";

export function decorateAssignment(li, message, roomSlug) {
  const assignment = message.assignment;
  if (!assignment || message.deleted || li.querySelector(".assignment-line")) return;
  const line = document.createElement("p");
  line.className = "assignment-line";
  const link = document.createElement("a");
  link.href = `/rooms/${encodeURIComponent(roomSlug)}/assignments/${assignment.id}`;
  link.textContent = _("Open the homework");
  const due = document.createElement("time");
  due.dateTime = assignment.due_at;
  due.textContent = new Date(assignment.due_at).toLocaleString(document.documentElement.lang || undefined,
    { dateStyle: "medium", timeStyle: "short" });
  line.append(link, " · ", _("due"), " ", due);
  li.querySelector(".body")?.after(line);
}
