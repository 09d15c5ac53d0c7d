/* The language menu submits itself when a language is picked (no inline handler:
   the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
})();
