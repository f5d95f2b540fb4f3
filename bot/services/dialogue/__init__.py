"""Statement dialogues (Pol.is-style conversations)."""
