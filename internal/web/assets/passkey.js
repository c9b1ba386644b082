// passkey.js: warden's WebAuthn (passkey) buttons. Hand-written, no build step, no inline script
// (the pages' Content-Security-Policy forbids it).
//
// A page marks a passkey block with data-passkey="register" or "login" (a second factor, a step-up
// or a usernameless sign-in alike: the server's options decide which credentials may answer), and
// names its two routes in data-begin and data-finish. The block holds a form: its hidden "csrf"
// field, and the fields the routes read (mode, next, the enrolment, a label). The block is hidden
// in the page and shown here only when the browser supports WebAuthn, so that a page without
// JavaScript shows the other methods only. An element marked data-passkey-status shows messages.
//
// The ceremony: POST data-begin with the form's fields as JSON and the CSRF token in the
// X-CSRF-Token header → options, whose binary fields arrive base64url; navigator.credentials.create
// or get; then the form itself is posted to data-finish (a top-level form post, CSRF field
// included) with the credential as JSON (binary fields base64url) in the field "credential", so
// that warden answers as for any other form: a redirect, the next page, or the page again with
// what went wrong.
(function () {
  "use strict";

  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) return undefined;
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function decodeDescriptors(list) {
    return (list || []).map(function (d) {
      var c = Object.assign({}, d);
      c.id = fromB64url(d.id);
      return c;
    });
  }

  // creationOptions turns the server's options into what navigator.credentials.create takes.
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    if (pk.excludeCredentials) pk.excludeCredentials = decodeDescriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = decodeDescriptors(pk.allowCredentials);
    var out = { publicKey: pk };
    if (o.mediation) out.mediation = o.mediation;
    return out;
  }

  function encodeCredential(cred) {
    var r = cred.response;
    var out = {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle && r.userHandle.byteLength) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) throw new Error(data.error || ("the server answered " + resp.status));
        return data;
      });
    });
  }

  // fields are the form's named fields but the CSRF token and the credential, as an object.
  function fields(form) {
    var out = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (el.name && el.name !== "csrf" && el.name !== "credential" && el.tagName !== "BUTTON") out[el.name] = el.value;
    });
    return out;
  }

  // submitCredential posts the form to the finish route with the credential in a hidden field.
  function submitCredential(form, action, cred) {
    var field = form.querySelector('input[name="credential"]');
    if (!field) {
      field = document.createElement("input");
      field.type = "hidden";
      field.name = "credential";
      form.appendChild(field);
    }
    field.value = JSON.stringify(encodeCredential(cred));
    form.method = "post";
    form.action = action;
    HTMLFormElement.prototype.submit.call(form); // no submit event: the listener below is not run again
  }

  function say(block, text) {
    var status = block.querySelector("[data-passkey-status]");
    if (!status) return;
    status.textContent = text;
    status.hidden = !text;
  }

  function browserMessage(err) {
    switch (err && err.name) {
      case "NotAllowedError":
        return "The passkey prompt was closed or timed out. Try again.";
      case "InvalidStateError":
        return "This authenticator already holds a passkey for this account.";
      case "SecurityError":
        return "This browser refused the passkey for this address.";
      default:
        return (err && err.message) || "Something went wrong.";
    }
  }

  function run(block, form, button) {
    var mode = block.getAttribute("data-passkey");
    var csrfField = form.querySelector('input[name="csrf"]');
    var csrf = csrfField ? csrfField.value : "";
    button.disabled = true;
    say(block, "");
    post(block.getAttribute("data-begin"), csrf, fields(form))
      .then(function (options) {
        if (mode === "register") return navigator.credentials.create(creationOptions(options));
        return navigator.credentials.get(requestOptions(options));
      })
      .then(function (cred) {
        if (!cred) throw new Error("No passkey was given.");
        say(block, "Checking the passkey…");
        submitCredential(form, block.getAttribute("data-finish"), cred);
      })
      .catch(function (err) {
        say(block, browserMessage(err));
        button.disabled = false;
      });
  }

  function setup() {
    if (!window.PublicKeyCredential || !navigator.credentials) return; // the block stays hidden
    var blocks = document.querySelectorAll("[data-passkey]");
    Array.prototype.forEach.call(blocks, function (block) {
      var form = block.querySelector("form");
      if (!form) return;
      var button = form.querySelector('button[type="submit"], button:not([type])');
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        run(block, form, button);
      });
      block.hidden = false;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
