"""Reports in chat: filing one (report), the coordinator's list and status (coordinator), triage."""
