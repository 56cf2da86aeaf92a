// The guided ask's live word count: the number of words as they are typed, and whether the
// note sits in the playbook's range (the server refuses only far outside it).
(function () {
  var box = document.getElementById("word-count");
  var area = box && document.querySelector("textarea[aria-describedby~='word-count']");
  if (!box || !area) return;
  var shown = box.querySelector("[data-words]");
  var low = parseInt(box.dataset.low, 10), high = parseInt(box.dataset.high, 10);
  function count() {
    var words = area.value.trim() ? area.value.trim().split(/\s+/).length : 0;
    shown.textContent = words;
    box.classList.toggle("text-success", words >= low && words <= high);
    box.classList.toggle("text-warning-emphasis", words > high);
  }
  area.addEventListener("input", count);
  count();
})();
