/* bcone console behaviour: the navigation drawer, flash messages, HTMX error notices. */
(function () {
  "use strict";

  function toast(text) {
    var box = document.querySelector(".toasts");
    if (!box) {
      box = document.createElement("div");
      box.className = "toasts";
      box.setAttribute("aria-live", "assertive");
      document.body.appendChild(box);
    }
    var item = document.createElement("div");
    item.className = "flash flash-error";
    item.setAttribute("role", "alert");
    var span = document.createElement("span");
    span.textContent = text;
    item.appendChild(span);
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 6000);
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var toggle = target.closest("[data-nav-toggle]");
    if (toggle) {
      var nav = document.getElementById(toggle.getAttribute("aria-controls"));
      var open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var close = target.closest("[data-dismiss-flash]");
    if (close) close.closest(".flash").remove();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var nav = document.querySelector(".sidenav.open");
    if (nav) {
      nav.classList.remove("open");
      var toggle = document.querySelector("[data-nav-toggle]");
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
  });

  // HTMX swaps no error page (the server marks them with X-Bcone-Error; 5xx are not swapped
  // either): tell the user instead of failing silently. A 422 without the mark is a form
  // re-rendered with its inline errors, which speaks for itself.
  document.addEventListener("htmx:afterRequest", function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (!xhr || xhr.status < 400) return;
    if (xhr.status === 422 && !xhr.getResponseHeader("X-Bcone-Error")) return;
    toast(document.body.dataset.requestFailed || "Request failed");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(document.body.dataset.requestFailed || "Request failed");
  });
})();
