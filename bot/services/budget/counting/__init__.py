"""Participatory-budget counting: Pabulib files in, winning projects out (pure functions).

* :mod:`bot.services.budget.counting.pabulib` - parse (and, via :mod:`bot.services.budget.counting.pabulib_write`, write) ``.pb``
  files into the frozen :mod:`bot.services.budget.counting.election` model;
  :mod:`bot.services.budget.counting.pabulib_fast` reads a file straight into the counting
  :mod:`~bot.services.budget.counting.profile` (what ``wijkbot tally`` uses);
* :mod:`bot.services.budget.counting.rules` - :func:`~bot.services.budget.counting.rules.count` with the rules ``greedy``,
  ``greedy-stop``, ``mes``, ``mes-add1`` and ``mes-add1-greedy`` (pabutools 1.2.3 semantics);
* :mod:`bot.services.budget.counting.tally_cli` - the ``wijkbot tally`` command.
"""
