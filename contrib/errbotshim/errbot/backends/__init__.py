"""Backends of the matterbot Errbot shim: only the identifier and message model."""
