// The console's menu folds into one line on a phone or a narrow tablet, so that the
// page's own work comes first; it stays open on a wide screen (and without script).
(function () {
  "use strict";
  var menu = document.querySelector(".console-menu");
  if (menu && window.matchMedia("(max-width: 59.99rem)").matches) {
    menu.open = false;
  }
})();
