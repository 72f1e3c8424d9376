// A long list of places: a search box above each select[data-filter] keeps only the
// options whose text holds what was typed. Options are removed and put back rather than
// hidden, since some phone browsers show hidden options anyway. The chosen option always
// stays, so filtering never changes what the form sends.
(function () {
  "use strict";
  var LONG = 15;

  function attach(select) {
    var all = Array.prototype.slice.call(select.options);
    if (all.length <= LONG) return;
    var box = document.createElement("input");
    box.type = "search";
    box.className = "select-filter";
    box.placeholder = select.getAttribute("data-filter");
    box.setAttribute("aria-label", select.getAttribute("data-filter"));
    box.setAttribute("aria-controls", select.id);
    select.parentNode.insertBefore(box, select);
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      var chosen = select.value;
      while (select.options.length) select.remove(0);
      all.forEach(function (option) {
        var keep = !q || option.value === "" || option.value === chosen ||
          option.text.toLowerCase().indexOf(q) !== -1;
        if (keep) select.add(option);
      });
      select.value = chosen;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-filter]"), attach);
  });
})();
