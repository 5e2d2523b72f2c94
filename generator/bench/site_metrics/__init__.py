"""`atlas measure-site SITE`: what a built site weighs and how fast it is in a browser (issue #14's report).

files.py sizes the folder, links.py checks every internal reference, serve.py serves the site under a project
sub-path (as GitHub Pages does), browser.py times it in headless Chromium, report.py judges the targets and
writes the JSON and the Markdown section, and measure.py runs them in order. Nothing here imports torch: it runs
wherever a site is, in seconds (plus the browser's minute)."""
