"""The in-page halves of the browser measurements: JavaScript that Playwright evaluates in the page, timed with
the page's own clock (performance.now()), so no round trip to Python is in any number."""

# Runs before any page script: remembers images that failed, so the scroll does not wait for them forever.
TRACK_BROKEN_IMAGES = """
window.__atlasBroken = new Set();
document.addEventListener("error", (e) => {
  if (e.target && e.target.tagName === "IMG") window.__atlasBroken.add(e.target);
}, true);
"""

# The navigation's own timings (ms since it started) and how many images have arrived.
PAGE_TIMINGS = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const images = [...document.images];
  return {
    load_ms: nav.loadEventEnd, dom_content_loaded_ms: nav.domContentLoadedEventEnd,
    first_contentful_paint_ms: fcp ? fcp.startTime : null,
    images: images.length, images_loaded: images.filter((i) => i.complete && i.naturalWidth > 0).length,
  };
}
"""

# Scroll one viewport every two frames (two, so Chromium's lazy-loading observer sees every position) to the
# bottom, then wait until every <img> has arrived (or failed). Times from the first scroll.
SCROLL_TO_BOTTOM = """
async ({timeoutMs}) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const broken = window.__atlasBroken || new Set();
  const images = [...document.images];
  const loaded = (i) => i.complete && i.naturalWidth > 0;
  const root = document.scrollingElement;
  const t0 = performance.now();
  const late = () => performance.now() - t0 > timeoutMs;
  let steps = 0;
  while (root.scrollTop + innerHeight < root.scrollHeight - 1 && !late()) {
    window.scrollBy({top: innerHeight, behavior: "instant"});
    steps += 1;
    await frame();
    await frame();
  }
  const bottom = performance.now() - t0;
  while (images.some((i) => !loaded(i) && !broken.has(i)) && !late()) await frame();
  return {
    ms: performance.now() - t0, reached_bottom_ms: bottom, steps, timed_out: late(),
    images: images.length, images_loaded: images.filter(loaded).length,
    broken: [...broken].map((i) => i.getAttribute("src")),
    not_loaded: images.filter((i) => !loaded(i) && !broken.has(i)).slice(0, 20).map((i) => i.getAttribute("src")),
  };
}
"""

# One keystroke into the gallery's search box: set the value, dispatch "input" as typing does, and time until
# the grid's DOM shows the filter (the first MutationObserver callback on the grid or #count: it runs once the
# input handler has returned, and would also catch a debounced or asynchronous filter), then until the next
# frame has been produced with it (rAF runs before that frame's style, layout and paint; a message posted from it runs after).
KEYSTROKE = """
async ({value, timeoutMs}) => {
  const input = document.getElementById("q");
  const grid = document.getElementById("grid");
  const count = document.getElementById("count");
  const t0 = performance.now();
  let domAt = null, timedOut = false;
  const changed = new Promise((resolve) => {
    const done = () => { if (domAt === null) { domAt = performance.now(); observer.disconnect(); resolve(); } };
    const observer = new MutationObserver(done);
    observer.observe(count, {childList: true, characterData: true, subtree: true});
    observer.observe(grid, {attributes: true, subtree: true, attributeFilter: ["hidden", "style"]});
    setTimeout(() => { timedOut = domAt === null; done(); }, timeoutMs);
  });
  input.value = value;
  input.dispatchEvent(new Event("input", {bubbles: true}));
  await changed;
  await new Promise((r) => requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => r();
    channel.port2.postMessage(null);
  }));
  return {
    dom_ms: domAt - t0, frame_ms: performance.now() - t0, timed_out: timedOut,
    matches: grid.querySelectorAll(":scope > .card:not([hidden])").length,
  };
}
"""

# Back to the unfiltered grid, two frames later (so the next keystroke starts from a settled page).
CLEAR_SEARCH = """
async () => {
  const input = document.getElementById("q");
  input.value = "";
  input.dispatchEvent(new Event("input", {bubbles: true}));
  for (let k = 0; k < 2; k++) await new Promise((r) => requestAnimationFrame(() => r()));
  return document.querySelectorAll("#grid > .card:not([hidden])").length;
}
"""
