"""matterbot's side of the shim: loading an Errbot plugin (runtime) and
speaking the exec-plugin protocol (transport); ``python3 -m
errbot._matterbot PLUGIN_DIR`` runs both."""
