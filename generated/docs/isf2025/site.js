// The guide's one script: the offline search and the sortable tables. Plain script, no modules and no
// fetch, so that it works from file:// as well as from a server.
//
// Search: search/index.js (groups, lists, tables, fields, features, ranges and prefixes of the code lists,
// the code systems and the messages shown) is loaded on first use; the codes come in one script per code
// system and first characters (search/ICD10-H.js), loaded when a query needs them. A code is matched by
// its code system's rules (H35.3 and H353 alike, by prefix), words by their letters with Norwegian letters
// and diacritics folded (makula finds makulaødem). The words of the codes' descriptions come in one script
// per first letters (search/words-d.js), loaded when a query needs them: a code is found when each word of
// the query begins a word of its description (degenerasjon makula finds H35.3). Arrow keys move between the
// results, Enter opens one.
// Every text is set with textContent: nothing from the definitions is ever read as HTML.
(function () {
  "use strict";
  var root = document.documentElement.getAttribute("data-root") || "";
  // The folder of the search index: the page's own site, or the newest version's for a page of a site of several
  // versions that has none (its index, the change documentation); results link into that folder.
  var base = document.documentElement.getAttribute("data-search") || root;

  // ------------------------------------------------------------------ sortable tables
  // A number as the page's language writes it (messages.py's Messages.amount): bokmål groups thousands by a
  // (no-break) space and writes a decimal comma (1 068 759,86), English groups by commas (1,068,759.86).
  var english = document.documentElement.lang !== "nb";

  function cellValue(td) {
    var text = (td ? td.textContent : "").trim();
    var number = english ? text.replace(/[\s,]/g, "") : text.replace(/\s/g, "").replace(",", ".");
    return /^-?\d+(\.\d+)?$/.test(number) ? { n: parseFloat(number), t: text } : { n: null, t: text.toLowerCase() };
  }

  function compare(a, b) {
    if (a.n !== null && b.n !== null) { return a.n - b.n; }
    if (a.n !== null) { return -1; }
    if (b.n !== null) { return 1; }
    return a.t < b.t ? -1 : a.t > b.t ? 1 : 0;
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var heads = table.querySelectorAll("thead th");
    Array.prototype.forEach.call(heads, function (th, col) {
      var button = th.querySelector("button");
      if (!button) { return; }
      button.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (other) { other.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows).map(function (tr, k) { return { tr: tr, k: k, v: cellValue(tr.cells[col]) }; });
        rows.sort(function (a, b) { return (ascending ? 1 : -1) * compare(a.v, b.v) || a.k - b.k; });
        rows.forEach(function (r) { body.appendChild(r.tr); });
      });
    });
  });

  // ------------------------------------------------------------------ search
  var box = document.getElementById("q");
  var out = document.getElementById("results");
  var status = document.getElementById("q-status");
  if (!box || !out) { return; }
  var requested = false, shards = {}, wordShards = {}, pending = {}, folded = null;
  var WORD_MIN = 3, WORD_SPREAD = 2;  // search.py's WORD_MIN; scripts of longer keys a short word loads at most

  function load(src) {
    var s = document.createElement("script");
    s.src = base + src;
    document.head.appendChild(s);
  }

  window.ISF_SEARCH_SHARD = function (key, codes) {
    shards[key] = codes;
    delete pending[key];
    show();
  };

  window.ISF_SEARCH_WORDS = function (key, script) {
    wordShards[key] = script;
    delete pending["words-" + key];
    show();
  };

  function withIndex(done) {
    if (window.ISF_SEARCH) { done(); return; }
    if (!requested) {
      requested = true;
      var s = document.createElement("script");
      s.src = base + "search/index.js";
      s.onload = function () { done(); };
      document.head.appendChild(s);
    }
  }

  function msg(key) { return (window.ISF_SEARCH.messages || {})[key] || ""; }

  function fold(s) {
    return s.toLowerCase().replace(/æ/g, "ae").replace(/ø/g, "o").replace(/å/g, "a")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }

  function norm(q, system) {
    var cfg = window.ISF_SEARCH.systems[system] || {};
    var s = q.trim();
    (cfg.ignore || "").split("").forEach(function (ch) { s = s.split(ch).join(""); });
    return cfg.upper === false ? s : s.toUpperCase();
  }

  // A code compared without dots and spaces and in capitals, so that H35.3 finds H353 in a system that keeps
  // no dots, H353 finds H35.3 in one that writes them, and i21 finds I210 in one whose codes are case
  // sensitive (NordDRG's ICD-10, where I210a is a code of its own): a query finds every code it could mean.
  function squash(s) { return s.replace(/[.\s]/g, "").toUpperCase(); }

  function wordsOf(s) {
    return fold(s).split(/[^a-z0-9]+/).filter(function (w) { return w.length >= WORD_MIN; });
  }

  // Codes by the words of their descriptions: the scripts whose key begins the query's first word (and, for a
  // word shorter than the keys it was split by, the first WORD_SPREAD of those under it; the rest come as it
  // grows), each code whose description has a word beginning with each word of the query.
  function findWords(q, hits, seen) {
    var asked = wordsOf(q), first = asked[0], keys = window.ISF_SEARCH.words || [], under = 0;
    if (!first) { return; }
    keys.forEach(function (key) {
      var wanted = first.indexOf(key) === 0 || (key.indexOf(first) === 0 && under++ < WORD_SPREAD);
      if (!wanted) { return; }
      var script = wordShards[key];
      if (!script) {
        if (!pending["words-" + key]) { pending["words-" + key] = true; load("search/words-" + key + ".js"); }
        return;
      }
      Object.keys(script.words).forEach(function (w) {
        if (w.indexOf(first) !== 0) { return; }
        script.words[w].forEach(function (k) {
          var c = script.items[k], have = wordsOf(c[2]);
          if (seen[c[3]]) { return; }
          var all = asked.every(function (a) { return have.some(function (h) { return h.indexOf(a) === 0; }); });
          if (!all) { return; }
          seen[c[3]] = true;
          hits.push({ rank: w === first ? 2 : 3, kind: "code", key: c[1], label: c[2], href: c[3], system: c[0],
                      groups: c[4] });
        });
      });
    });
  }

  function target(t) {
    var parts = t.split("#");
    return base + parts[0] + ".html" + (parts.length > 1 ? "#" + parts[1] : "");
  }

  function find(q) {
    var index = window.ISF_SEARCH, word = fold(q.trim()), hits = [], seen = {};
    if (!word) { return hits; }
    if (!folded) { folded = index.items.map(function (it) { return fold(it[1] + " " + it[2]); }); }
    index.items.forEach(function (it, k) {
      var key = fold(it[1]), rank = -1;
      if (key === word) { rank = 0; }
      else if (key.indexOf(word) === 0) { rank = 1; }
      else if (folded[k].indexOf(word) >= 0) { rank = 3; }
      if (rank >= 0) { hits.push({ rank: rank, kind: it[0], key: it[1], label: it[2], href: it[3] }); }
    });
    Object.keys(index.systems).forEach(function (system) {
      var code = squash(norm(q, system));
      if (!code || (code.length > 3 && !/[0-9]/.test(code))) { return; }  // a word, not a code
      (index.systems[system].shards || []).forEach(function (key) {
        if (code.indexOf(squash(key)) !== 0) { return; }
        var name = system + "-" + key;
        if (!shards[name]) {
          if (!pending[name]) { pending[name] = true; load("search/" + name + ".js"); }
          return;
        }
        shards[name].forEach(function (c) {
          var have = squash(c[1]);
          if (have.indexOf(code) !== 0 || seen[c[3]]) { return; }
          seen[c[3]] = true;
          hits.push({ rank: have === code ? 0 : 2, kind: "code", key: c[0], label: c[2], href: c[3], system: system,
                      groups: c[4] });
        });
      });
    });
    findWords(q, hits, seen);
    index.ranges.forEach(function (r) {
      var code = norm(q, r[0]), lo = r[1], hi = r[2], inside;
      if (!code || (code.length > 3 && !/[0-9]/.test(code))) { return; }  // a word ("sektor" is no code in S00-T19)
      inside = r[3] === "prefix" ? code.indexOf(lo) === 0
        : code.slice(0, lo.length) >= lo && code.slice(0, hi.length) <= hi;
      if (inside && r[5]) {
        hits.push({ rank: 1, kind: "within", key: r[4], href: r[5],
                    label: msg("search.within").replace("{system}", r[0]).replace("{kind}", msg("entry." + r[3]) || r[3])
                      .replace("{code}", q.trim()) });
      }
    });
    hits.sort(function (a, b) { return a.rank - b.rank || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0); });
    return hits.slice(0, 60);
  }

  function show() {
    if (!window.ISF_SEARCH) { return; }
    var hits = find(box.value);
    while (out.firstChild) { out.removeChild(out.firstChild); }
    hits.forEach(function (h) {
      var li = document.createElement("li"), a = document.createElement("a"), kind = document.createElement("span");
      var key = document.createElement("strong"), label = document.createElement("span");
      kind.className = "kind";
      kind.textContent = (msg("kind." + h.kind) || h.kind) + (h.system ? " " + h.system : "");
      key.textContent = h.key;
      label.className = "label";
      label.textContent = h.label ? " — " + h.label : "";
      a.href = target(h.href);
      a.appendChild(key);
      a.appendChild(label);
      li.appendChild(kind);
      li.appendChild(a);
      if (h.groups) {
        var leads = document.createElement("span");
        leads.className = "leads";
        leads.textContent = !h.groups.length ? msg("search.no_group") : msg("search.leads") + " " + h.groups.slice(0, 12).join(", ")
          + (h.groups.length > 12 ? " … (" + h.groups.length + ")" : "");
        li.appendChild(leads);
      }
      out.appendChild(li);
    });
    if (box.value.trim() && !hits.length && !Object.keys(pending).length) {
      var none = document.createElement("li");
      none.textContent = msg("search.none");
      out.appendChild(none);
    }
    if (status) { status.textContent = box.value.trim() ? msg("search.count").replace("{n}", String(hits.length)) : ""; }
  }

  function links() { return Array.prototype.slice.call(out.querySelectorAll("a")); }

  box.addEventListener("input", function () { withIndex(show); });
  box.addEventListener("keydown", function (e) {
    var all = links();
    if (e.key === "ArrowDown" && all.length) { e.preventDefault(); all[0].focus(); }
    else if (e.key === "Enter" && all.length) { e.preventDefault(); window.location.href = all[0].href; }
    else if (e.key === "Escape") { box.value = ""; show(); }
  });
  out.addEventListener("keydown", function (e) {
    var all = links(), k = all.indexOf(document.activeElement);
    if (k < 0) { return; }
    if (e.key === "ArrowDown") { e.preventDefault(); all[Math.min(k + 1, all.length - 1)].focus(); }
    else if (e.key === "ArrowUp") { e.preventDefault(); if (k === 0) { box.focus(); } else { all[k - 1].focus(); } }
    else if (e.key === "Escape") { e.preventDefault(); box.focus(); }
  });
})();
