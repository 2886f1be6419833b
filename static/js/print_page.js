// "Print this page" buttons (data-app-print): hidden without JavaScript,
// since only a script can open the print dialogue.
for (const button of document.querySelectorAll("[data-app-print]")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
