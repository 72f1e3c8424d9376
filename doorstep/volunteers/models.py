"""The volunteers app's models."""
