"""Reaching the rarely heard: a lottery-drawn neighbourhood forum and "who is missing".

`opening` is the coordinator's dialog that opens a forum (`/nieuwwijkforum`, its diagram in
the module's docstring); `join` puts a resident in the pool (`/wijkforum`, by chat or a
letter code), answers invitations and shows a coordinator the panel; `missing` lets a
resident share an age group (`/leeftijd`) and shows coordinators who takes part against
the population (`/wiemister`). The draw and the panel live in `bot.services.forum`.
"""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers.forum import join, missing, opening

router = Router("forum")
router.include(opening.router, join.router, missing.router)
