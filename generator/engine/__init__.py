"""The engine, torch's side: what to visualize (targets, recipe) and how (models, params, transforms, objectives,
render). ``targets`` and ``recipe`` are plain data and import no torch, so later stages may use them; importing
this package imports nothing."""
