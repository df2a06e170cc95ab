// Fills the next number (position, paragraph number) into each inline row the admin adds,
// so that keying a report's list does not mean counting rows by hand.
(function () {
  "use strict";

  function highest(group, field) {
    var max = 0;
    group.querySelectorAll('input[data-autonumber="' + field + '"]').forEach(function (input) {
      if (input.name.indexOf("__prefix__") !== -1) {
        return;
      }
      var value = parseInt(input.value, 10);
      if (!isNaN(value) && value > max) {
        max = value;
      }
    });
    return max;
  }

  function numberRow(row) {
    row.querySelectorAll("input[data-autonumber]").forEach(function (input) {
      if (input.value !== "") {
        return;
      }
      var group = row.closest(".inline-group") || document;
      input.value = highest(group, input.getAttribute("data-autonumber")) + 1;
    });
  }

  document.addEventListener("formset:added", function (event) {
    numberRow(event.target);
  });
})();
