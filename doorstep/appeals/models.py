"""The appeals app's models."""
