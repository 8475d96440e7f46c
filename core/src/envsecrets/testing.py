"""Contract test kit for provider authors (pytest plugin)."""
