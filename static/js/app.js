// Small behaviours on top of htmx. No inline scripts anywhere, so a strict CSP holds.
(function () {
  "use strict";

  function flash(text, kind) {
    var area = document.getElementById("flash");
    if (!area) return;
    var p = document.createElement("p");
    p.className = "flash flash--" + (kind || "error");
    p.textContent = text;
    area.replaceChildren(p);
    area.focus();
  }

  // Forms with data-confirm ask in the page's <dialog> before htmx sends them. showModal()
  // makes the rest of the page inert (focus stays in the dialog) and Escape closes it; the
  // safe answer has the focus first. Without <dialog> support, the browser's confirm().
  var pending = null;  // the question on screen: how to send its request, where focus was
  document.addEventListener("htmx:confirm", function (event) {
    var elt = event.detail.elt;
    var question = elt && elt.dataset ? elt.dataset.confirm : null;
    if (!question) return;
    event.preventDefault();
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(question)) event.detail.issueRequest(true);
      return;
    }
    pending = { issueRequest: event.detail.issueRequest, opener: document.activeElement };
    dialog.querySelector("[data-confirm-text]").textContent = question;
    dialog.querySelector("[data-confirm-detail]").textContent = elt.dataset.confirmDetail || "";
    dialog.returnValue = "";
    dialog.showModal();
    dialog.querySelector("[data-confirm-keep]").focus();
  });
  // One listener for every question. The close event comes in a task of its own: after Escape
  // and a quick Enter it can arrive when the next question is already open, and it is not that
  // question's answer.
  var confirmDialog = document.getElementById("confirm-dialog");
  if (confirmDialog) {
    confirmDialog.addEventListener("close", function () {
      if (confirmDialog.open || !pending) return;
      var answered = pending;
      pending = null;
      if (confirmDialog.returnValue === "confirm") {
        answered.issueRequest(true);
      } else if (answered.opener && answered.opener.isConnected) {
        answered.opener.focus();  // back where the user was, nothing changed
      }
    });
  }

  // A cancel answers with an announcement for #flash (a live region: read out, not focused, so
  // the page does not jump to the top) and the session again, in place. The button the user
  // pressed has just been replaced: focus goes to the session itself, without scrolling. (The
  // form is detached by then, so its own htmx events never reach the document.)
  document.addEventListener("htmx:oobAfterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.dataset && target.dataset.reservationId) {
      // An outerHTML swap: the element the event names is the old one.
      var shown = document.getElementById(target.id);
      if (shown) shown.focus({ preventScroll: true });
    }
  });
  // After paging the history, start reading from its heading.
  document.addEventListener("htmx:afterSettle", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.id === "history") {
      var title = document.getElementById("history-title");
      if (title) title.focus();
    }
  });

  // htmx 2 does not swap error responses: tell the user, change nothing on the page.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var text = document.body.dataset.msgServerError || "Something went wrong. Nothing was changed; please try again.";
    if (xhr && xhr.status === 503) {
      text = document.body.dataset.msgUnavailable || text;
    }
    flash(text, "error");
  });
  document.addEventListener("htmx:sendError", function () {
    flash(document.body.dataset.msgNetworkError || "No connection. Nothing was changed; please try again.", "error");
  });

  // "Copy" beside a read-only field (the calendar link on /preferences/). The button stays
  // hidden where the clipboard cannot be written (no JavaScript, an insecure origin): the
  // field's text can still be selected and copied. The result is read out from a status line.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var field = document.getElementById(button.dataset.copy);
    var status = document.getElementById(button.dataset.copy + "-status");
    if (!field || !navigator.clipboard || !window.isSecureContext) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () {
          if (status) status.textContent = button.dataset.copied;
        },
        function () {
          field.focus();
          field.select();
          if (status) status.textContent = button.dataset.copyFailed;
        }
      );
    });
  });
})();
