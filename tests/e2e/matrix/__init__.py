"""The Matrix adapter against a real Synapse homeserver."""
