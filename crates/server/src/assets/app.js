// Waterline dashboard: live updates over server-sent events, sortable and filterable
// tables, and the login form. No dependency; written for this project.
(function () {
  "use strict";

  function numeric(text) {
    var t = text.replace(/[,\s%h]/g, "");
    if (t === "" || t === "unknown") return NaN;
    return Number(t);
  }

  function sortable(root) {
    root.querySelectorAll("table.sortable th").forEach(function (th, _, all) {
      th.addEventListener("click", function () {
        var table = th.closest("table");
        var index = Array.prototype.indexOf.call(th.parentNode.children, th);
        var ascending = !th.classList.contains("sorted-asc");
        th.parentNode.querySelectorAll("th").forEach(function (h) { h.classList.remove("sorted-asc", "sorted-desc"); });
        th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[index] ? a.cells[index].textContent : "";
          var y = b.cells[index] ? b.cells[index].textContent : "";
          var nx = numeric(x), ny = numeric(y), order;
          if (!isNaN(nx) && !isNaN(ny)) order = nx - ny; else order = x.localeCompare(y);
          return ascending ? order : -order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      });
    });
    root.querySelectorAll("input.table-filter").forEach(function (input) {
      input.addEventListener("input", function () {
        var table = document.getElementById(input.dataset.table);
        if (!table) return;
        var needle = input.value.toLowerCase();
        Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
          row.hidden = needle !== "" && row.textContent.toLowerCase().indexOf(needle) < 0;
        });
      });
    });
  }

  var refreshing = false, again = false;
  function refresh() {
    var main = document.getElementById("main");
    if (!main) return;
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(window.location.href, { headers: { "X-Waterline-Fragment": "1" }, credentials: "same-origin" })
      .then(function (response) { if (!response.ok) throw new Error("HTTP " + response.status); return response.text(); })
      .then(function (html) {
        var head = main.querySelectorAll("h1, p.job, p.filters-applied");
        var kept = Array.prototype.map.call(head, function (node) { return node.outerHTML; }).join("");
        main.innerHTML = kept + html;
        sortable(main);
        main.dataset.refreshed = String(Date.now());
      })
      .catch(function (error) { console.warn("live refresh failed:", error.message); })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  function live() {
    var badge = document.getElementById("live");
    if (!badge || !window.EventSource) return;
    var source = new EventSource("/api/v1/events");
    source.addEventListener("hello", function () { badge.classList.add("connected"); badge.title = "Live: connected"; });
    source.addEventListener("posts", function (event) {
      var change = {};
      try { change = JSON.parse(event.data); } catch (e) { /* keep going */ }
      badge.classList.add("flash");
      badge.textContent = "new posts";
      window.setTimeout(function () { badge.classList.remove("flash"); badge.textContent = "live"; }, 2500);
      document.body.dataset.version = String(change.version || "");
      refresh();
    });
    source.addEventListener("alert", function (event) {
      var alert = {};
      try { alert = JSON.parse(event.data); } catch (e) { return; }
      var banner = document.getElementById("live-alert");
      if (!banner) {
        banner = document.createElement("div");
        banner.id = "live-alert";
        banner.className = "live-alert";
        banner.setAttribute("role", "alert");
        document.body.insertBefore(banner, document.body.firstChild);
      }
      var link = document.createElement("a");
      link.href = "/alerts#alert-" + (alert.id || "");
      link.textContent = "Alert: " + (alert.rule || "") + " — " + ((alert.explanation && alert.explanation.summary) || "");
      banner.innerHTML = "";
      banner.appendChild(link);
      banner.dataset.alert = alert.id || "";
      banner.dataset.received = String(Date.now());
      if (window.location.pathname === "/alerts") refresh();
    });
    source.onerror = function () { badge.classList.remove("connected"); badge.title = "Live: reconnecting"; };
  }

  function login() {
    var form = document.getElementById("login");
    if (!form) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = form.elements.token.value;
      fetch("/api/v1/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ token: token }) })
        .then(function (response) {
          if (response.ok) { if (window.location.pathname === "/login") window.location.href = "/"; else window.location.reload(); return; }
          var error = document.getElementById("login-error");
          error.hidden = false;
          error.textContent = "That token is unknown or revoked.";
        });
    });
  }

  // Pharmacovigilance case actions: each form posts one JSON action; the page reloads
  // with the case as it now stands (the server appends the event to the case's log).
  function actions(root) {
    root.querySelectorAll("form.pv-action").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var body = {};
        Array.prototype.forEach.call(form.elements, function (field) {
          if (field.name && field.value !== "") body[field.name] = field.value;
        });
        var error = form.parentNode.querySelector(".error");
        fetch("/api/v1/pv/cases/" + encodeURIComponent(form.dataset.case) + "/actions", {
          method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
        }).then(function (response) {
          if (response.ok) { window.location.reload(); return; }
          return response.json().then(function (answer) {
            if (error) { error.hidden = false; error.textContent = (answer.error && answer.error.message) || ("HTTP " + response.status); }
          });
        });
      });
    });
  }

  // Alert actions: acknowledge or resolve, with an optional note; who and when are kept.
  function alertActions(root) {
    root.addEventListener("submit", function (event) {
      var form = event.target;
      if (!form.classList || !form.classList.contains("alert-action")) return;
      event.preventDefault();
      var note = form.elements.note ? form.elements.note.value : "";
      var error = form.parentNode.querySelector(".error");
      fetch("/api/v1/alerts/" + encodeURIComponent(form.dataset.alert) + "/" + form.dataset.action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json" }, body: JSON.stringify(note ? { note: note } : {})
      }).then(function (response) {
        if (response.ok) { window.location.reload(); return; }
        return response.json().then(function (answer) {
          if (error) { error.hidden = false; error.textContent = (answer.error && answer.error.message) || ("HTTP " + response.status); }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    sortable(document);
    live();
    login();
    actions(document);
    alertActions(document);
  });
})();
