/* Feature Atlas: videos that play when seen (a few at most), keyboard shortcuts, and the gallery's
   instant search and WordNet browsing. No dependencies; works from file:// and any sub-path. */
(function () {
  "use strict";

  /* ---------------------------------------------------------------- videos */
  var MAX_PLAYING = 3;
  var playing = [];
  var reduceMotion = !!(window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches);
  var videos = Array.prototype.slice.call(document.querySelectorAll("video[data-play]"));

  function forget(v) {
    var i = playing.indexOf(v);
    if (i >= 0) playing.splice(i, 1);
  }
  function autoPause(v) {
    if (v.paused) return;
    v._atlasAuto = true;
    v.pause();
  }
  function start(v) {
    if (!v.paused) return;
    var p = v.play();
    if (p && p.catch) p.catch(function () {});
  }
  videos.forEach(function (v) {
    v.addEventListener("play", function () {
      forget(v);
      playing.push(v);
      var limit = document.body.classList.contains("sync-all") ? Infinity : MAX_PLAYING;
      while (playing.length > limit) autoPause(playing.shift());
    });
    v.addEventListener("pause", function () {
      forget(v);
      if (v._atlasAuto) v._atlasAuto = false;
      else v._atlasUserPaused = true; // the reader paused it: do not restart it on scroll
    });
    v.addEventListener("mouseenter", function () { start(v); });
    v.addEventListener("focus", function () { start(v); });
    if (!v.controls) { /* no native controls: a tap, Enter or Space toggles */
      var toggle = function () {
        if (v.paused) { v._atlasUserPaused = false; start(v); } else { v.pause(); }
      };
      v.addEventListener("click", toggle);
      v.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(); }
      });
    }
  });
  if ("IntersectionObserver" in window) {
    var seen = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        var v = e.target;
        if (e.isIntersecting && e.intersectionRatio >= 0.5) {
          if (!reduceMotion && !v._atlasUserPaused) start(v);
        } else if (!e.isIntersecting || e.intersectionRatio < 0.2) {
          autoPause(v);
        }
      });
    }, { threshold: [0, 0.2, 0.5] });
    videos.forEach(function (v) { seen.observe(v); });
  }

  /* the recipe page: play every stage from the first frame, side by side */
  var playAll = document.getElementById("playall");
  if (playAll) {
    var synced = videos.filter(function (v) { return v.classList.contains("sync"); });
    if (synced.length > 1) {
      playAll.hidden = false;
      playAll.addEventListener("click", function () {
        document.body.classList.add("sync-all");
        synced.forEach(function (v) {
          v._atlasUserPaused = false;
          try { v.currentTime = 0; } catch (err) { /* not loaded yet */ }
          start(v);
        });
      });
    }
  }

  /* ---------------------------------------------------------------- keys: "/" searches, arrows page */
  document.addEventListener("keydown", function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey || e.defaultPrevented) return;
    var t = e.target, tag = t && t.tagName;
    var typing = tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (t && t.isContentEditable);
    if (e.key === "/" && !typing) {
      var q = document.querySelector("#q, .qform input");
      if (q) { e.preventDefault(); q.focus(); }
      return;
    }
    if (typing || tag === "VIDEO") return;
    var a = document.querySelector('a[data-key="' + e.key + '"]');
    if (a) location.href = a.href;
  });

  /* ---------------------------------------------------------------- the gallery */
  var grid = document.getElementById("grid");
  var X = window.ATLAS_INDEX;
  if (!grid || !X) return;
  var input = document.getElementById("q");
  var crumbs = document.getElementById("crumbs");
  var chips = document.getElementById("chips");
  var countEl = document.getElementById("count");
  var emptyEl = document.getElementById("empty");

  var nodes = X.nodes.map(function (n, id) {
    return { id: id, parent: n[0], chain: n[1] ? n[1].split("/") : [], children: [], total: 0, hits: 0 };
  });
  var byPath = {};
  nodes.forEach(function (n) {
    if (n.parent >= 0) {
      var p = nodes[n.parent];
      p.children.push(n.id);
      n.path = p.path.concat(n.chain);
    } else {
      n.path = [];
    }
    n.name = n.chain.length ? n.chain[n.chain.length - 1] : "All";
    byPath[n.path.join("/")] = n.id;
  });

  var cards = {};
  Array.prototype.forEach.call(grid.querySelectorAll("[data-i]"), function (el) { cards[el.getAttribute("data-i")] = el; });

  var classes = X.classes.map(function (c) {
    var anc = [], n = c[4];
    while (n >= 0) { anc.push(n); n = nodes[n].parent; }
    var names = [c[1]].concat(c[2]).map(function (s) { return s.toLowerCase(); });
    var pathText = nodes[c[4]].path.join(" ").toLowerCase();
    anc.forEach(function (a) { nodes[a].total++; });
    return { index: c[0], label: c[1], wnid: c[3].toLowerCase(), anc: anc, names: names,
             text: names.join(" ") + " " + pathText, el: cards[c[0]] };
  });

  var state = { node: 0, q: "" };

  function score(c, q, tokens) {
    if (/^#?\d+$/.test(q)) return c.index === parseInt(q.replace("#", ""), 10) ? 0 : -1;
    if (/^n\d{2,8}$/.test(q)) return c.wnid.indexOf(q) === 0 ? 0 : -1;
    var best = -1;
    for (var k = 0; k < c.names.length; k++) {
      var s = c.names[k], at = s.indexOf(q), r = -1;
      if (s === q) r = 0;
      else if (at === 0) r = 1;
      else if (at > 0 && /[\s\-'(]/.test(s.charAt(at - 1))) r = 2;
      else if (at > 0) r = 3;
      if (r >= 0 && (best < 0 || r < best)) best = r;
    }
    if (best >= 0) return best;
    for (var t = 0; t < tokens.length; t++) if (c.text.indexOf(tokens[t]) < 0) return -1;
    return 4;
  }

  function hashFor(node, q) {
    var parts = [];
    if (node > 0) parts.push("in=" + nodes[node].path.map(encodeURIComponent).join("/"));
    if (q) parts.push("q=" + encodeURIComponent(q));
    return "#" + (parts.length ? parts.join("&") : "gallery");
  }

  function link(node, text, q) {
    var a = document.createElement("a");
    a.href = hashFor(node, q);
    a.textContent = text;
    return a;
  }

  function update(writeHash) {
    var q = state.q.trim().toLowerCase();
    var tokens = q.split(/\s+/).filter(Boolean);
    var shown = 0;
    nodes.forEach(function (n) { n.hits = 0; });
    classes.forEach(function (c) {
      var ok = state.node === 0 || c.anc.indexOf(state.node) >= 0;
      var s = 0;
      if (q) { s = score(c, q, tokens); if (s < 0) ok = false; }
      var hit = !q || s >= 0;
      if (hit) c.anc.forEach(function (a) { nodes[a].hits++; });
      if (c.el) {
        c.el.hidden = !ok;
        c.el.style.order = q && ok ? String(s) : "";
      }
      if (ok) shown++;
    });

    /* breadcrumbs: All > animal > vertebrate > bird */
    crumbs.textContent = "";
    var trail = [], n = state.node;
    while (n > 0) { trail.unshift(n); n = nodes[n].parent; }
    crumbs.appendChild(link(0, "All", state.q));
    trail.forEach(function (id, k) {
      var sep = document.createElement("span");
      sep.setAttribute("aria-hidden", "true");
      sep.textContent = " › ";
      crumbs.appendChild(sep);
      var a = link(id, nodes[id].name, state.q);
      if (nodes[id].chain.length > 1) a.title = nodes[id].chain.join(" › ");
      if (k === trail.length - 1) a.setAttribute("aria-current", "page");
      crumbs.appendChild(a);
    });

    /* the current node's children, with how many classes (matching the search) each holds */
    chips.textContent = "";
    nodes[state.node].children.forEach(function (id) {
      var child = nodes[id];
      if (!child.hits) return;
      var a = link(id, child.name, state.q);
      a.className = "chip";
      var small = document.createElement("small");
      small.textContent = " " + child.hits;
      a.appendChild(small);
      chips.appendChild(a);
    });

    var where = state.node ? " in " + nodes[state.node].name : "";
    countEl.textContent = (q || state.node)
      ? shown + " of " + classes.length + " classes" + where + (q ? " matching “" + state.q.trim() + "”" : "")
      : classes.length + " classes";
    emptyEl.hidden = shown > 0;
    if (writeHash) {
      try { history.replaceState(null, "", location.pathname + hashFor(state.node, state.q.trim())); }
      catch (err) { /* some file:// setups refuse; the filter still works */ }
    }
  }

  function readHash() {
    var h = location.hash.replace(/^#/, ""), node = 0, q = null;
    h.split("&").forEach(function (part) {
      var eq = part.indexOf("=");
      if (eq < 0) return;
      var k = part.slice(0, eq), v = part.slice(eq + 1);
      try {
        if (k === "in") {
          var key = v.split("/").map(decodeURIComponent).join("/");
          if (byPath.hasOwnProperty(key)) node = byPath[key];
        } else if (k === "q") {
          q = decodeURIComponent(v.replace(/\+/g, " "));
        }
      } catch (err) { /* a malformed hash: ignore it */ }
    });
    return { node: node, q: q };
  }

  function fromLocation() {
    var h = readHash();
    state.node = h.node;
    if (h.q !== null) { state.q = h.q; input.value = h.q; }
    else if (/^#(in=|gallery)/.test(location.hash) || !location.hash) { state.q = input.value = ""; }
    update(false);
    return h.node > 0 || h.q !== null;
  }

  input.addEventListener("input", function () { state.q = input.value; update(true); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { input.value = state.q = ""; update(true); }
    if (e.key === "Enter") {
      var first = null;
      classes.forEach(function (c) {
        if (c.el && !c.el.hidden && (!first || (+c.el.style.order || 0) < (+first.style.order || 0))) first = c.el;
      });
      if (first) first.click();
    }
  });
  window.addEventListener("hashchange", function () { fromLocation(); });

  /* ?q= comes from the search box on other pages */
  var m = /[?&]q=([^&#]*)/.exec(location.search);
  if (m) {
    var fromForm = decodeURIComponent(m[1].replace(/\+/g, " "));
    try { history.replaceState(null, "", location.pathname + hashFor(0, fromForm)); } catch (err) { /* file:// */ }
    state.q = input.value = fromForm;
    update(false);
    document.getElementById("gallery").scrollIntoView();
  } else if (fromLocation() && location.hash !== "#gallery") {
    document.getElementById("gallery").scrollIntoView();
  }
})();
