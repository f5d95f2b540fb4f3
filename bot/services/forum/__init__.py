"""Lottery-drawn neighbourhood forums (geloot wijkforum): features and quotas
(`features`), the draw itself (`draw`, pure), and the pool, invitations, replacements and
erasure (`panel`)."""
