"""The static site: one module per page kind (classes, channels, recipe, home), the hierarchy, filters and
plots, templating, and publish.py, the only writer into site/. Entry point: build.build_site."""
