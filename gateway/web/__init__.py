"""The web layer: the desk, the status page, the API, metrics and health over HTTP."""
