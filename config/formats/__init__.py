"""Format overrides for the project's languages (``FORMAT_MODULE_PATH``)."""
