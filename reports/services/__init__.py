"""Writes of the reports app: requesting, rendering, approving and signing reports, the
organisation's signing keys, and verifying a PDF sent back to the server."""
