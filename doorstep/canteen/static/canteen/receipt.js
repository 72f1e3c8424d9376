// Print the on-screen bill (no inline handlers: the CSP allows scripts from 'self' only).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
