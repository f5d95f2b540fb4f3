"""The Pabulib parser and writer: quirks of real files, errors naming the line, round trips."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.budget.counting.amounts import format_amount, parse_amount
from bot.services.budget.counting.election import Ballot, Election, Project
from bot.services.budget.counting.pabulib import PabulibError, parse_pabulib, write_pabulib
from tests.budget.counting.realdata import expected_results, load_election
from tests.budget.counting.strategies import elections

GOOD = '''META
key;value
description;Test
budget;100
vote_type;approval
PROJECTS
project_id;cost;name
1;60;Park
2;40.5;"Bench; with ""quotes"""
VOTES
voter_id;vote;age
a;1,2;30
b;2;
c;;41
'''


def test_parses_a_small_file() -> None:
    election = parse_pabulib(GOOD)
    assert election.budget == 100
    assert election.vote_type == "approval"
    assert [(p.project_id, p.cost) for p in election.projects] == [
        ("1", 60),
        ("2", Fraction(81, 2)),
    ]
    assert election.projects[1].extra == {"name": 'Bench; with "quotes"'}
    assert [b.projects for b in election.ballots] == [("1", "2"), ("2",), ()]
    assert election.ballots[0].extra == {"age": "30"}
    assert election.meta["description"] == "Test"


def test_tolerates_bom_crlf_blank_lines_trailing_semicolons_and_spaces() -> None:
    text = "\ufeff" + GOOD.replace("\n", "\r\n").replace("VOTES", "\r\nVOTES;").replace(
        "1,2;30", " 1 , 2 ;30;"
    )
    election = parse_pabulib(io.StringIO(text, newline=""))
    assert election == parse_pabulib(GOOD)


def test_reads_points_and_keeps_extra_columns() -> None:
    text = GOOD.replace("approval", "cumulative").replace(
        "voter_id;vote;age\na;1,2;30\nb;2;\nc;;41",
        "voter_id;vote;points;sex\na;1,2;3,1.5;F\nb;2;4;M\nc;;;X",
    )
    election = parse_pabulib(text)
    assert [b.points for b in election.ballots] == [(3, Fraction(3, 2)), (4,), ()]
    assert election.ballots[2].extra == {"sex": "X"}
    assert election.uses_points


BAD_CASES = [
    ("", 1, "empty file"),
    ("hello\n", 1, "expected section META"),
    (
        GOOD.replace("PROJECTS\nproject_id;cost;name\n1;60;Park\n", "").replace(
            '2;40.5;"Bench; with ""quotes"""\n', ""
        ),
        6,
        "missing section PROJECTS",
    ),
    (GOOD.split("VOTES")[0], 9, "missing section VOTES"),
    (GOOD.replace("budget;100\n", ""), 1, "no budget"),
    (GOOD.replace("budget;100", "budget;lots"), 4, "budget is not a number"),
    (GOOD.replace("vote_type;approval", "vote_type;ordinal"), 5, "unsupported vote_type"),
    (GOOD.replace("vote_type;approval\n", ""), 1, "no vote_type"),
    (GOOD.replace("1;60;Park", "1;sixty;Park"), 8, "cost of project '1' is not a number"),
    (GOOD.replace("1;60;Park", "1;-60;Park"), 8, "negative"),
    (GOOD.replace("1;60;Park", "1;60"), 8, "2 columns but the header has 3"),
    (GOOD.replace("1;60;Park", "1;60;Park;extra"), 8, "4 columns"),
    (GOOD.replace("1;60;Park", "2;60;Park"), 9, "project_id '2' given twice"),
    (GOOD.replace("project_id;cost;name", "id;cost;name"), 7, "lacks column(s) project_id"),
    (GOOD.replace("a;1,2;30", "a;1,7;30"), 12, "unknown project '7'"),
    (GOOD.replace("a;1,2;30", "a;1,1;30"), 12, "lists project '1' twice"),
    (GOOD.replace("c;;41", "a;;41"), 14, "voter_id 'a' given twice"),
    (GOOD.replace("b;2;", "b;2"), 13, "2 columns"),
    (GOOD.replace("voter_id;vote;age", "voter_id;age"), 11, "lacks column(s) vote"),
    (GOOD.replace("VOTES", "META"), 10, "section META appears twice"),
    (GOOD.replace("key;value", "name;budget"), 2, "META header must be key;value"),
    (GOOD.replace("description;Test", "description"), 3, "has no value"),
    (GOOD.replace("description;Test", "budget;5"), 4, "META key 'budget' given twice"),
    (GOOD.replace("PROJECTS\nproject_id;cost;name\n", "PROJECTS\n"), 7, "PROJECTS header lacks"),
    (GOOD.replace("approval", "cumulative"), 11, "lacks column(s) points"),
    (
        GOOD.replace("approval", "cumulative")
        .replace("vote;age", "vote;points")
        .replace("a;1,2;30", "a;1,2;3"),
        12,
        "lists 2 projects but 1 points",
    ),
    (
        GOOD.replace("approval", "cumulative")
        .replace("vote;age", "vote;points")
        .replace("a;1,2;30", "a;1,2;3,x"),
        12,
        "points of voter 'a' is not a number",
    ),
    ('META\nkey;value\ndescription;"never closed\n', 3, "unreadable row"),
    # A section line straight after another one, or at the end of the file: no header row.
    ("META\n" + GOOD[GOOD.index("PROJECTS") :], 2, "section META has no header row"),
    (GOOD.split("\nproject_id")[0] + "\nVOTES\n", 7, "section PROJECTS has no header row"),
    (
        GOOD.split("\nproject_id")[0] + "\n" + GOOD[GOOD.index("VOTES") :],
        7,
        "section PROJECTS has no header row",
    ),
    (GOOD.split("project_id")[0], 6, "section PROJECTS has no header row (the file ends here)"),
    (GOOD.split("voter_id")[0] + "\n\n", 10, "section VOTES has no header row (the file ends"),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_CASES)
def test_malformed_files_name_the_line(text: str, line: int, message: str) -> None:
    with pytest.raises(PabulibError) as caught:
        parse_pabulib(text)
    assert caught.value.line == line, str(caught.value)
    assert message in caught.value.problem
    assert str(caught.value).startswith(f"line {line}: ")


def test_round_trip_of_a_small_file() -> None:
    election = parse_pabulib(GOOD)
    assert parse_pabulib(write_pabulib(election)) == election


@pytest.mark.parametrize("name", sorted(expected_results()) or ["missing"])
def test_round_trip_of_real_files(require_data: Path, name: str) -> None:
    election = load_election(name)
    assert parse_pabulib(write_pabulib(election)) == election


_TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=12)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    election=st.sampled_from(["approval", "cumulative"]).flatmap(elections),
    names=st.lists(_TEXT, min_size=6, max_size=6),
    ages=st.lists(_TEXT, min_size=12, max_size=12),
    comment=_TEXT,
)
def test_round_trip_keeps_odd_text(
    election: Election, names: list[str], ages: list[str], comment: str
) -> None:
    # Free text with semicolons, quotes and line breaks must survive in the extra columns.
    projects = tuple(
        Project(p.project_id, p.cost, {"name": n})
        for p, n in zip(election.projects, names, strict=False)
    )
    ballots = tuple(
        Ballot(b.voter_id, b.projects, b.points, {"age": a})
        for b, a in zip(election.ballots, ages, strict=False)
    )
    odd = Election(
        budget=election.budget,
        vote_type=election.vote_type,
        projects=projects,
        ballots=ballots,
        meta={"comment": comment.strip()} if comment.strip() else {},
    )
    assert parse_pabulib(write_pabulib(odd)) == odd


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("12.50", Fraction(25, 2)), ("12,5", Fraction(25, 2)), ("3/4", Fraction(3, 4))],
)
def test_amounts(text: str, value: Fraction) -> None:
    assert parse_amount(text) == value
    assert parse_amount(format_amount(value)) == value


def test_amount_rejects_junk_and_formats_exactly() -> None:
    assert parse_amount("ten") is None
    assert parse_amount("nan") is None
    assert parse_amount("") is None
    assert format_amount(Fraction(1, 3)) == "1/3"
    assert format_amount(Fraction(1, 8)) == "0.125"
    assert format_amount(Fraction(10, 2)) == "5"
