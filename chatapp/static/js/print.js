// Buttons marked data-print print the page (the CSP allows no inline handler).
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
