// Shows upload progress for a roster file, then "Checking every row…" while the preview is
// built. Without JavaScript the form posts normally; nothing here is needed for it to work.
(function () {
  "use strict";
  var form = document.getElementById("roster-upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  var status = document.getElementById("upload-status");
  var bar = document.getElementById("upload-progress");
  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file || !file.files || !file.files.length) {
      return; // let the server say a file is needed
    }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    status.hidden = false;
    bar.value = 0;
    status.querySelector("span").textContent = "Uploading…";
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
      }
      if (e.loaded === e.total) {
        bar.removeAttribute("value"); // indeterminate while the server checks the rows
        status.querySelector("span").textContent = "Checking every row…";
      }
    });
    request.addEventListener("load", function () {
      if (request.responseURL && request.responseURL !== (form.action || window.location.href)) {
        window.location.assign(request.responseURL);
      } else {
        document.open();
        document.write(request.responseText);
        document.close();
      }
    });
    request.addEventListener("error", function () {
      status.querySelector("span").textContent = "The upload failed. Check the connection and try again.";
    });
    request.send(new FormData(form));
  });
})();
