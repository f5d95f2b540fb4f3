"""Reports (meldingen): notices, duplicates nearby, forwarding to the municipality."""
