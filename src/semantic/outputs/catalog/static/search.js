/* The catalog's search: the same algorithm as semantic/model/rank.py, step by step, over the
   index that `semantic docs build` embeds in assets/search-index.js. A test runs both on the
   same queries and compares the results; change one, change the other. */
(function () {
  "use strict";

  var FIELD_WEIGHT = { id: 15, label: 10, synonym: 5, hidden_label: 4, definition: 0 };
  var EXACT = 100, PREFIX = 90, WORDS = 70, INSIDE = 60, FUZZY = 50;
  var ONE_TYPO = 4, TWO_TYPOS = 7;
  var PREFERRED = 3;
  var DEFAULT_LIMIT = 20;

  /* names.normalize_name, then punctuation as spaces (model/rank.py: search_key) */
  function searchKey(text) {
    var s = String(text).normalize("NFKD").replace(/\p{Mn}/gu, "");
    s = s.replace(/[\u2019\u2018]/g, "'");
    s = s.toLowerCase().replace(/\u00df/g, "ss");  /* str.casefold */
    s = s.replace(/[\s_\-]+/g, " ").trim();
    return s.replace(/[^0-9a-z\u{c0}-\u{10ffff}]+/gu, " ").trim();
  }

  /* optimal string alignment: insertions, deletions, substitutions, neighbour swaps */
  function editDistance(a, b) {
    a = Array.from(a); b = Array.from(b);
    var before = [], previous = [];
    for (var j = 0; j <= b.length; j++) previous.push(j);
    for (var i = 1; i <= a.length; i++) {
      var current = [i];
      for (j = 1; j <= b.length; j++) {
        var cost = a[i - 1] === b[j - 1] ? 0 : 1;
        var value = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
          value = Math.min(value, before[j - 2] + 1);
        }
        current.push(value);
      }
      before = previous;
      previous = current;
    }
    return previous[previous.length - 1];
  }

  function closest(word, tokens) {
    if (tokens.some(function (t) { return t.startsWith(word); })) return 0;
    var length = Array.from(word).length;
    var allowed = length >= TWO_TYPOS ? 2 : length >= ONE_TYPO ? 1 : 0;
    if (allowed === 0) return -1;
    var best = -1;
    for (var t = 0; t < tokens.length; t++) {
      var candidates = [tokens[t], Array.from(tokens[t]).slice(0, length).join("")];
      for (var c = 0; c < candidates.length; c++) {
        var distance = editDistance(word, candidates[c]);
        if (distance <= allowed && (best < 0 || distance < best)) best = distance;
      }
    }
    return best;
  }

  function fieldScore(query, words, key, kind) {
    if (!key) return 0;
    if (kind !== "definition") {
      if (key === query) return EXACT;
      if (key.startsWith(query)) return PREFIX;
    }
    var tokens = key.split(" ");
    var all = words.every(function (w) {
      return tokens.some(function (t) { return t.startsWith(w); });
    });
    if (all) return WORDS;
    if (key.includes(query)) return INSIDE;
    var typos = 0;
    for (var i = 0; i < words.length; i++) {
      var best = closest(words[i], tokens);
      if (best < 0) return 0;
      typos += best;
    }
    return Math.max(FUZZY - 5 * typos, 20);
  }

  function search(index, text, language, limit, prefer) {
    if (limit === undefined || limit === null) limit = DEFAULT_LIMIT;
    language = language || null;
    prefer = prefer || null;
    var query = searchKey(text);
    if (!query) return [];
    var words = query.split(" ");
    var shown = language || prefer || (index.languages.length ? index.languages[0] : null);
    var hits = [];
    index.entries.forEach(function (entry) {
      var best = null;
      entry.fields.forEach(function (field) {
        var kind = field[0], lang = field[1], key = field[2];
        if (language !== null && lang !== null && lang !== language) return;
        var score = fieldScore(query, words, key, kind);
        if (score > 0) {
          score += FIELD_WEIGHT[kind] + (lang && lang === prefer ? PREFERRED : 0);
          if (best === null || score > best.score) best = { score: score, field: field };
        }
      });
      if (best === null) return;
      var labels = entry.labels;
      var values = Object.keys(labels).map(function (k) { return labels[k]; });
      var label = (shown && labels[shown]) || values[0] || entry.id;
      hits.push({
        id: entry.id, kind: entry.kind, label: label, matched: best.field[0],
        language: best.field[1], text: best.field[3], score: best.score, url: entry.url
      });
    });
    hits.sort(function (a, b) {
      return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
    return hits.slice(0, limit);
  }

  window.semanticSearch = function (text, language, limit, prefer) {
    return search(window.SEMANTIC_INDEX, text, language, limit, prefer);
  };
  window.semanticSearchKey = searchKey;

  /* --- the search box of the home page, in the page's language --- */
  /* the words of the page's language, written by `semantic docs build` into the page */
  function interfaceWords() {
    var node = document.getElementById("interface-words");
    return node ? JSON.parse(node.textContent) : { messages: {}, kinds: {} };
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(results, hits, text, words) {
    var messages = words.messages;
    results.textContent = "";
    if (!searchKey(text)) return;
    if (!hits.length) {
      var empty = (messages.no_results || "Nothing matches \u201c{text}\u201d.");
      results.appendChild(element("li", "empty", empty.replace("{text}", text)));
      return;
    }
    hits.forEach(function (hit) {
      var item = element("li", "hit");
      var link = element("a", "hit-link");
      link.href = hit.url;
      link.appendChild(element("span", "hit-label", hit.label));
      link.appendChild(element("span", "badge kind-" + hit.kind, words.kinds[hit.kind] || hit.kind));
      link.appendChild(element("code", "hit-id", hit.id));
      item.appendChild(link);
      var field = messages["field_" + hit.matched] || hit.matched.replace("_", " ");
      var why = field + (hit.language ? " (" + hit.language + ")" : "");
      var match = element("div", "hit-match");
      var said = (messages.match_why || "{field}:").replace("{field}", why);
      match.appendChild(element("span", "hit-why", said + " "));
      match.appendChild(element("span", "hit-text", hit.text));
      item.appendChild(match);
      results.appendChild(item);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("q");
    var results = document.getElementById("results");
    var lang = document.getElementById("lang");
    if (!input || !results || !window.SEMANTIC_INDEX) return;
    var words = interfaceWords();
    /* every language is searched; the page's comes first among equal matches */
    var page = document.documentElement.lang || null;
    function run() {
      var hits = window.semanticSearch(input.value, lang ? lang.value : null, null, page);
      render(results, hits, input.value, words);
      var query = input.value ? "?q=" + encodeURIComponent(input.value) : "";
      document.querySelectorAll("a.lang-switch").forEach(function (a) {
        a.href = a.getAttribute("href").split("?")[0] + query;  /* keep the search */
      });
      try {
        var url = new URL(window.location.href);
        if (input.value) url.searchParams.set("q", input.value); else url.searchParams.delete("q");
        window.history.replaceState(null, "", url.toString());
      } catch (e) { /* some browsers refuse this on file:// pages: the search still works */ }
    }
    var params = new URLSearchParams(window.location.search);
    if (params.get("q")) input.value = params.get("q");
    input.addEventListener("input", run);
    if (lang) lang.addEventListener("change", run);
    run();
  });
})();
