"""Privacy: /mijngegevens shows what is stored about me, /vergeetmij erases it.

`my_data` gathers and words the overview; `forget` asks, then erases.
"""

from __future__ import annotations

from bot.core.router import Router
from bot.handlers.privacy import forget, my_data

router = Router("privacy")
router.include(my_data.router, forget.router)
