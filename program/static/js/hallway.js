// A table box that scrolls sideways (on a phone) can be scrolled from the keyboard too: it
// takes focus, and says what it holds. Boxes that fit take no extra tab stop.
(function () {
  function mark() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.tabIndex = 0;
        if (!box.hasAttribute("role")) {
          var caption = box.querySelector("caption");
          box.setAttribute("role", "region");
          box.setAttribute("aria-label", (caption ? caption.textContent.trim() + ", " : "") + "scrolls sideways");
        }
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
// A field with a length limit says how much is left as one types, and how much is too much:
// never cut (a browser's maxlength drops pasted text without a word); the server refuses text
// over the limit with the limit in its message.
(function () {
  function counter(field) {
    var limit = parseInt(field.getAttribute("data-max-length"), 10);
    if (!limit) return;
    var note = document.createElement("div");
    note.className = "form-text";
    note.setAttribute("aria-live", "polite");
    note.id = (field.id || field.name) + "-length";
    field.setAttribute("aria-describedby", ((field.getAttribute("aria-describedby") || "") + " " + note.id).trim());
    field.insertAdjacentElement("afterend", note);
    function show() {
      var left = limit - field.value.length;
      // Quiet until the end is near: a name box need not count every letter.
      note.hidden = left > Math.max(20, limit / 5);
      note.textContent = left >= 0
        ? left + (left === 1 ? " character" : " characters") + " left (at most " + limit + ")"
        : (-left) + (left === -1 ? " character" : " characters") + " too many: at most " + limit;
      note.classList.toggle("text-danger", left < 0);
      field.classList.toggle("is-invalid", left < 0);
    }
    field.addEventListener("input", show);
    show();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-max-length]").forEach(counter);
  });
})();
