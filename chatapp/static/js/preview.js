// The picture preview: a click on a message's thumbnail (a link to the full picture) opens the
// picture in a modal <dialog> instead of a new tab. Escape or Close shuts it, and the focus goes
// back to the thumbnail. Without this script the link still opens the picture.
import { _ } from "./i18n.js";

let dialog = null;

function buildDialog() {
  const element = document.createElement("dialog");
  element.className = "picture-preview";
  element.id = "picture-preview";
  const figure = document.createElement("figure");
  const bar = document.createElement("div");
  bar.className = "preview-bar";
  const caption = document.createElement("figcaption");
  const original = document.createElement("a");
  original.target = "_blank";
  original.rel = "noopener noreferrer";
  original.textContent = _("Open the original");
  const close = document.createElement("button");
  close.type = "button";
  close.className = "preview-close";
  close.textContent = _("Close");
  close.addEventListener("click", () => element.close());
  bar.append(caption, original, close);
  const img = document.createElement("img");
  img.alt = "";
  figure.append(bar, img);
  element.append(figure);
  // A click on the backdrop (the dialog itself, outside the figure) closes it too.
  element.addEventListener("click", (event) => {
    if (event.target === element) element.close();
  });
  document.body.append(element);
  return element;
}

// Show the picture behind link (an a.attachment around its thumbnail).
export function openPreview(link) {
  dialog ||= buildDialog();
  const thumb = link.querySelector("img");
  const alt = thumb?.alt || _("Picture");
  const img = dialog.querySelector("img");
  img.src = link.getAttribute("href");
  img.alt = alt;
  dialog.querySelector("figcaption").textContent = alt;
  dialog.querySelector(".preview-bar a").href = link.href;
  dialog.setAttribute("aria-label", alt);
  dialog.addEventListener("close", () => link.focus(), { once: true });
  dialog.showModal();
  dialog.querySelector(".preview-close").focus();
}

// Thumbnails anywhere inside root open the preview (plain clicks only: Ctrl-click still opens a tab).
export function enablePicturePreview(root) {
  root.addEventListener("click", (event) => {
    const link = event.target.closest?.("a.attachment");
    if (!link || !root.contains(link) || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    openPreview(link);
  });
}
