"""The points app's models."""
