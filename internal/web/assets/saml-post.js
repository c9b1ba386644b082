// Posts the SAML response form of /saml/sso as soon as the page is read (the page's Continue
// button does the same for a browser without JavaScript). An asset, not an inline script: the
// pages' Content-Security-Policy allows no inline script.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("saml-post");
  if (form) {
    form.submit();
  }
});
