"""Participatory-budget counting: Pabulib files in, winning projects out (pure functions).

* :mod:`bot.budget.pabulib` - parse (and, via :mod:`bot.budget.pabulib_write`, write) ``.pb``
  files into the frozen :mod:`bot.budget.election` model;
* :mod:`bot.budget.rules` - :func:`~bot.budget.rules.count` with the rules ``greedy``,
  ``greedy-stop``, ``mes``, ``mes-add1`` and ``mes-add1-greedy`` (pabutools 1.2.3 semantics);
* :mod:`bot.budget.tally_cli` - the ``wijkbot tally`` command.
"""
