"""The pipeline: config -> plan (jobs with content keys) -> runners -> artifacts -> the store, and the build loop."""
