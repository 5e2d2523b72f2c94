"""The quality and speed benchmark (`atlas bench`, `make bench`): a tool, not part of a build. cli.py says what it
measures and writes."""
