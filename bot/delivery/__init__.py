"""Everything sent later: the outbox and its sender, broadcasts, notices, the scheduler."""
