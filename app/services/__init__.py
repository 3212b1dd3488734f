"""Domain rules as plain functions over models, testable without HTTP."""
