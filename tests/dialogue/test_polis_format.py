"""Reading and writing the Pol.is export format, and what a malformed file gets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.services.dialogue.analysis import analyse
from bot.services.dialogue.polis_format import (
    PolisFormatError,
    Statement,
    read_conversation,
    write_conversation,
)
from tests.dialogue.test_analysis import two_camps

REAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "polis" / "15-per-hour-seattle"

COMMENTS = "comment-id,comment-body,moderated\n0,Meer bomen,1\n1,Minder auto's,1\n"
PEOPLE = "participant,group-id,n-votes,0,1\n10,0,2,1,-1\n11,,1,,1\n"


def conversation(tmp_path: Path, comments: str = COMMENTS, people: str = PEOPLE) -> Path:
    (tmp_path / "comments.csv").write_text(comments, encoding="utf-8")
    (tmp_path / "participants-votes.csv").write_text(people, encoding="utf-8")
    return tmp_path


def test_reads_statements_votes_and_polis_groups(tmp_path: Path) -> None:
    conv = read_conversation(conversation(tmp_path))
    assert conv.statements[1].text == "Minder auto's"
    assert sorted(conv.votes) == [(10, 0, 1), (10, 1, -1), (11, 1, 1)]
    assert conv.polis_groups == {10: 0}


def test_votes_csv_wins_and_the_latest_vote_counts(tmp_path: Path) -> None:
    conversation(tmp_path)
    (tmp_path / "votes.csv").write_text(
        "timestamp,datetime,comment-id,voter-id,vote\n200,x,0,10,-1\n100,x,0,10,1\n150,x,1,11,0\n",
        encoding="utf-8",
    )
    assert sorted(read_conversation(tmp_path).votes) == [(10, 0, -1), (11, 1, 0)]


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    (tmp_path / "comments.csv").write_text(COMMENTS, encoding="utf-8-sig")
    (tmp_path / "participants-votes.csv").write_text(PEOPLE, encoding="utf-8-sig")
    assert len(read_conversation(tmp_path).statements) == 2


@pytest.mark.parametrize(
    ("file", "comments", "people", "expected"),
    [
        ("comments", "comment-body\nMeer bomen\n", PEOPLE,
         "comments.csv, row 1: missing column(s): comment-id"),
        ("people", COMMENTS, "participant,group-id,0\n10,0,7\n",
         "participants-votes.csv, row 2: vote in column 0 must be 1, -1 or 0, not 7"),
        ("people", COMMENTS, "participant,group-id,0\nanna,0,1\n",
         "participants-votes.csv, row 2: participant must be a whole number, not 'anna'"),
        ("comments", "comment-id,comment-body\n0,ok\nnul,Meer bomen\n", PEOPLE,
         "comments.csv, row 3: comment-id must be a whole number, not 'nul'"),
        ("comments", "", PEOPLE, "comments.csv: the file is empty"),
        ("people", COMMENTS, "participant,group-id,0\n10,0,1,1,1\n",
         "participants-votes.csv, row 2: 5 values for 3 columns"),
    ],
)  # fmt: skip
def test_a_malformed_file_gets_one_error_naming_file_and_row(
    tmp_path: Path, file: str, comments: str, people: str, expected: str
) -> None:
    with pytest.raises(PolisFormatError) as err:
        read_conversation(conversation(tmp_path, comments, people))
    assert str(err.value) == expected


def test_a_50_mb_line_is_refused_with_the_row(tmp_path: Path) -> None:
    huge = COMMENTS + "2," + "x" * 50_000_000 + ",1\n"
    with pytest.raises(PolisFormatError) as err:
        read_conversation(conversation(tmp_path, huge))
    assert str(err.value).startswith("comments.csv, row 4: not valid CSV")


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "comments.csv").write_text(COMMENTS, encoding="utf-8")
    with pytest.raises(PolisFormatError, match=r"^participants-votes\.csv: cannot be read"):
        read_conversation(tmp_path)


def test_export_then_read_gives_the_same_groups(tmp_path: Path) -> None:
    votes = two_camps()
    result = analyse(votes, moderated_out={3})
    statements = {
        s: Statement(s, f"Stelling {s}", -1 if s == 3 else 1) for s in {v[1] for v in votes}
    }
    write_conversation(tmp_path, statements, votes, result, topic="Schalkwijk")
    assert {p.name for p in tmp_path.iterdir()} == {
        "comments.csv",
        "participants-votes.csv",
        "votes.csv",
        "summary.csv",
    }
    back = read_conversation(tmp_path)
    assert back.polis_groups == dict(result.groups)
    assert back.moderated_out == {3}
    assert back.summary["groups"] == "2"
    again = analyse(back.votes, back.moderated_out)
    assert again.groups == result.groups
    (tmp_path / "votes.csv").unlink()  # the matrix alone gives the same too
    assert analyse(read_conversation(tmp_path).votes, {3}).groups == result.groups


def test_cli_prints_one_line_for_a_malformed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conversation(tmp_path, people="participant,group-id,0\n10,0,7\n")
    assert main(["gesprek", "analyse", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "wijkbot: participants-votes.csv, row 2: vote in column 0 must be 1, -1 or 0, not 7\n"
    )


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/data/polis is not here")
def test_cli_json_on_a_real_conversation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gesprek", "analyse", str(REAL), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert set(doc) == {"groups", "consensus", "repness"}
    assert len(doc["groups"]) == 138  # Pol.is placed 138 of the 339
    assert set(doc["groups"].values()) == {0, 1}
    assert set(doc["repness"]) == {"0", "1"}
    assert all(isinstance(c, int) for c in doc["consensus"]) and len(doc["consensus"]) == 5
