"""The fast reader gives the slow reader's profile, and its errors, for every file."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.budget.counting import pabulib_fast
from bot.services.budget.counting.election import Election
from bot.services.budget.counting.pabulib import PabulibError, parse_pabulib, write_pabulib
from bot.services.budget.counting.pabulib_fast import read_profile
from bot.services.budget.counting.profile import Profile, build_profile
from tests.budget.counting.realdata import expected_results
from tests.budget.counting.strategies import elections
from tests.budget.counting.test_pabulib import BAD_CASES, GOOD


def _slow(text: str) -> Profile | tuple[int, str]:
    try:
        return build_profile(parse_pabulib(text))
    except PabulibError as error:
        return error.line, error.problem


def _fast(raw: bytes) -> Profile | tuple[int, str]:
    try:
        return read_profile(raw)
    except PabulibError as error:
        return error.line, error.problem


@pytest.fixture
def no_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail if the fast reader hands the file to the slow one."""

    def refuse(text: str) -> Election:
        raise AssertionError("the fast reader fell back to parse_pabulib")

    monkeypatch.setattr(pabulib_fast, "parse_pabulib", refuse)


@pytest.mark.usefixtures("no_fallback")
@pytest.mark.parametrize("name", sorted(expected_results()) or ["missing"])
def test_real_files_take_the_fast_way_to_the_same_profile(require_data: Path, name: str) -> None:
    raw = (require_data / name).read_bytes()
    assert read_profile(raw) == _slow(raw.decode("utf-8-sig"))


@pytest.mark.usefixtures("no_fallback")
def test_plain_small_files_take_the_fast_way() -> None:
    text = GOOD.replace("Bench; with", "Bench with").replace('"', "")
    assert read_profile(text.encode()) == _slow(text)
    spaced = text.replace("\n1;", "\nproject 1;").replace("a;1,2", "a;project 1,2")
    assert read_profile(spaced.encode()) == _slow(spaced)
    points = text.replace("approval", "cumulative").replace(
        "voter_id;vote;age\na;1,2;30\nb;2;\nc;;41", "voter_id;vote;points\na;1,2;3,0\nb;2;4\nc;;"
    )
    profile = read_profile(points.encode())
    assert profile == _slow(points)
    assert profile.supporters == ((0,), (1,))  # a project given 0 points is not supported
    # Line ends of any kind, a byte-order mark and empty lines change nothing.
    odd = "\ufeff" + points.replace("\n", "\r\n").replace("b;2;4", "\r\n\nb;2;4\r") + "\n\n"
    assert read_profile(odd.encode()) == profile


@pytest.mark.parametrize(("text", "line", "message"), BAD_CASES)
def test_malformed_files_give_the_same_error(text: str, line: int, message: str) -> None:
    with pytest.raises(PabulibError) as caught:
        read_profile(text.encode())
    assert (caught.value.line, caught.value.problem) == _slow(text)


VOTES_HEAD = "META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n1;60\n2;40\nVOTES\n"

# Each of these needs the slow reader: quirks it tolerates, or problems it names.
NOT_PLAIN = [
    "voter_id;vote\na;1,2\nb;2;\n",  # a trailing semicolon
    "voter_id;vote\na; 1 , 2\nb;2\n",  # spaces in a vote list
    "voter_id;vote\na;1,,2\nb;2\n",  # an empty item
    'voter_id;vote\n"a";"1,2"\nb;2\n',  # quotes
    'voter_id;vote;age\na;1,2;"x\ny;2;w"\n',  # one row of 3 columns, or two?
    "voter_id;vote\na;1,2\n  ;  \nb;2\n",  # a blank row with spaces
    "voter_id;vote\na;1,2\nvotes;\nb;2\n",  # a row that is a section line
    "voter_id;vote\na;1,2\nVOTES;\n",
    "voter_id;vote\na;1,2\n meta ;\n",
    "voter_id;vote\na;1,2\n\xa0a;2\n",  # an id that str.strip makes equal to another
    "voter_id;vote\na;1,2\n\x1ca;2\n",
    "voter_id;vote\na;1,2\nb;2,2\n",  # a project twice
    "voter_id;vote\na;1,2\na;2\n",  # a voter twice
    "voter_id;vote\na;1,3\n",  # an unknown project
    "voter_id;vote\na;1,2\n;2\n",  # no voter id
    "voter_id;vote\na;1;2\n",  # a column too many
    "voter_id;vote\na\n",  # a column too few
    "voter_id;vote;age\na;1,2\nb;2;30;\n",
    "voter_id;vote;age\na;1,2;30;x;2\nb\n",  # 5 and 1 columns: 6, as two rows of 3
    "vote;voter_id\n1,2;a\n2;b\n",  # vote list first
    "voter_id;vote\na;1\x002\n",
]


@pytest.mark.parametrize("votes", NOT_PLAIN)
def test_rows_that_are_not_plain_get_the_slow_readers_answer(votes: str) -> None:
    text = VOTES_HEAD + votes
    assert _fast(text.encode()) == _slow(text)


@pytest.mark.parametrize(
    "points", ["1,2;3,1.5", "1,2;3", "1,2;3,x", "1,2;3,-1", "1,2; 3,1", "1,2;3,,1", "1;\u0663"]
)
def test_points_that_are_not_whole_numbers_get_the_slow_readers_answer(points: str) -> None:
    text = (VOTES_HEAD + "voter_id;vote;points\na;" + points + "\nb;2;4\n").replace(
        "approval", "cumulative"
    )
    assert _fast(text.encode()) == _slow(text)


_CHUNKS = st.sampled_from(
    [";", ",", " ", "\t", "\n", "\r", "\r\n", '"', "\xa0", "1", "2", "10", "a", "b", "votes", ""]
)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    election=st.sampled_from(["approval", "cumulative"]).flatmap(elections),
    edits=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 3), _CHUNKS), max_size=3),
)
def test_random_files_and_damaged_ones_read_alike(
    election: Election, edits: list[tuple[int, int, str]]
) -> None:
    text = write_pabulib(election)
    # Damage the VOTES section: replace a few characters with separators, spaces, quotes ...
    start = text.index("\nVOTES\n") + 7
    for at, cut, chunk in edits:
        at = start + at % (len(text) - start + 1)
        text = text[:at] + chunk + text[at + cut :]
    assert _fast(text.encode()) == _slow(text)
