// The guided integration's identity source step (/admin/setup/identity-source): a metadata file
// chosen in "Identity Center's metadata file" is read into the metadata field, which the form sends.
// Without this script the file chooser stays hidden and the XML is pasted into the field.
"use strict";
(function () {
  var maxBytes = 14336; // the form's bound (server: maxSPForm)

  function start() {
    var box = document.getElementById("metadata-file-box");
    var input = document.getElementById("metadata-file");
    var area = document.getElementById("metadata");
    var status = document.getElementById("metadata-file-status");
    if (!box || !input || !area || !status || !window.FileReader) { return; }
    box.hidden = false;
    input.addEventListener("change", function () {
      var f = input.files && input.files[0];
      if (!f) { return; }
      if (f.size > maxBytes) {
        status.textContent = f.name + " is larger than this form takes: use warden saml sp set --metadata-file.";
        return;
      }
      var r = new FileReader();
      r.onload = function () {
        area.value = String(r.result);
        status.textContent = "Read " + f.name + " into the field below: set it when it looks right.";
      };
      r.onerror = function () { status.textContent = "Could not read " + f.name + "."; };
      r.readAsText(f);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
