// Offline search over groups, code lists, features and codes (including codes inside a range or under
// a prefix). The index (search-index.js) is loaded on first use; results are built with textContent,
// so no text from the definitions is ever read as HTML.
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";
  var box = document.getElementById("q");
  var out = document.getElementById("results");
  if (!box || !out) { return; }
  var requested = false;

  function withIndex(done) {
    if (window.ISF_SEARCH) { done(); return; }
    if (requested) { return; }
    requested = true;
    var s = document.createElement("script");
    s.src = root + "search-index.js";
    s.onload = function () { done(); };
    document.head.appendChild(s);
  }

  function norm(q, system) {
    var cfg = (window.ISF_SEARCH.systems || {})[system] || {};
    var s = q.trim();
    (cfg.ignore || "").split("").forEach(function (ch) { s = s.split(ch).join(""); });
    return cfg.upper === false ? s : s.toUpperCase();
  }

  function target(t) {
    var parts = t.split("#");
    return root + parts[0] + ".html" + (parts.length > 1 ? "#" + parts[1] : "");
  }

  function find(q) {
    var index = window.ISF_SEARCH, lower = q.trim().toLowerCase(), hits = [];
    if (!lower) { return hits; }
    index.items.forEach(function (it) {
      var key = it[1].toLowerCase(), rank = -1;
      if (key === lower || (it[4] && it[4] === norm(q, it[2]))) { rank = 0; }
      else if (key.indexOf(lower) === 0) { rank = 1; }
      else if (it[2].toLowerCase().indexOf(lower) >= 0) { rank = 2; }
      if (rank >= 0) { hits.push({ rank: rank, kind: it[0], key: it[1], label: it[2], href: it[3] }); }
    });
    index.ranges.forEach(function (r) {
      var code = norm(q, r[0]), lo = r[1], hi = r[2], inside;
      if (!code) { return; }
      inside = r[3] === "prefix" ? code.indexOf(lo) === 0
        : code.slice(0, lo.length) >= lo && code.slice(0, hi.length) <= hi;
      if (inside && r[5]) { hits.push({ rank: 0, kind: "within", key: r[4], label: r[0] + " " + r[3] + " holding " + q.trim(), href: r[5] }); }
    });
    hits.sort(function (a, b) { return a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0); });
    return hits.slice(0, 60);
  }

  function show() {
    var hits = find(box.value);
    while (out.firstChild) { out.removeChild(out.firstChild); }
    hits.forEach(function (h) {
      var li = document.createElement("li"), kind = document.createElement("span"), a = document.createElement("a");
      kind.className = "kind";
      kind.textContent = h.kind;
      a.href = target(h.href);
      a.textContent = h.key + " — " + h.label;
      li.appendChild(kind);
      li.appendChild(a);
      out.appendChild(li);
    });
    if (box.value.trim() && !hits.length) {
      var none = document.createElement("li");
      none.textContent = "nothing found";
      out.appendChild(none);
    }
  }

  box.addEventListener("input", function () { withIndex(show); });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Enter") { var first = out.querySelector("a"); if (first) { window.location.href = first.href; } }
  });
})();
