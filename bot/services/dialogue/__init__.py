"""Conversations (gesprekken, issue 15): a question, short statements, and agree / disagree /
pass from each resident, one statement at a time, as Pol.is does it in a browser.

`conversations` opens, announces and closes them; `statements` checks what residents write;
`ordering` picks the next statement. The analysis (opinion groups, common ground) lives in
`analysis` and reads the same votes; `polis_format` reads and writes Pol.is's export files.
"""
