"""The sites app's models."""
