"""The Matrix adapter's pure parts: rendering replies and reading events (no server needed)."""

from __future__ import annotations

from typing import Any

from nio import Event

from bot.adapters.matrix.events import split_file_id, to_incoming
from bot.adapters.matrix.render import (
    bang_commands,
    edit_content,
    keycap_index,
    parse_geo_uri,
    render,
    strip_mention,
    strip_reply_fallback,
)
from bot.core.events import Button, ChatRef, Location, Reply, UserRef, keyboard

CHAT = ChatRef("matrix", "!room:localhost")
USER = UserRef("matrix", "@anna:localhost")


def event(content: dict[str, Any], event_type: str = "m.room.message") -> Any:
    return Event.parse_event(
        {
            "type": event_type,
            "event_id": "$e1",
            "sender": "@anna:localhost",
            "origin_server_ts": 1,
            "content": content,
        }
    )


def test_slash_commands_become_bang_commands_but_links_stay() -> None:
    text = "Typ /help of /melding. Zie https://example.org/help en (/idee)."
    assert bang_commands(text) == "Typ !help of !melding. Zie https://example.org/help en (!idee)."


def test_render_escapes_user_text_and_numbers_buttons() -> None:
    reply = Reply(
        "<b>Idee</b> van Anna\nregel 2",
        keyboard([Button("Steun", "s:1"), Button("Terug", "back")], Button("Site", "", "https://x.nl/?a=1&b=2")),
    )  # fmt: skip
    content = render(reply)
    assert content["msgtype"] == "m.text"
    assert content["body"] == (
        "<b>Idee</b> van Anna\nregel 2\n\n1. Steun\n2. Terug\n\nSite: https://x.nl/?a=1&b=2"
    )
    assert content["formatted_body"] == (
        "&lt;b&gt;Idee&lt;/b&gt; van Anna<br>regel 2<ol><li>Steun</li><li>Terug</li></ol>"
        '<br><a href="https://x.nl/?a=1&amp;b=2">Site</a>'
    )
    unsafe = render(Reply("x", keyboard(Button("Klik", "", "javascript:alert(1)"))))
    assert "<a" not in unsafe["formatted_body"]


def test_edit_is_an_m_replace_with_new_content() -> None:
    new = render(Reply("Klaar!"))
    edit = edit_content("$orig", new)
    assert edit["m.new_content"] == new and edit["body"] == "* Klaar!"
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$orig"}


def test_keycaps_geo_and_fallbacks() -> None:
    assert keycap_index("1️⃣") == 0 and keycap_index("3⃣") == 2 and keycap_index("🔟") == 9
    assert keycap_index("👍") is None
    assert parse_geo_uri("geo:52.3678,4.6536;u=12") == Location(52.3678, 4.6536)
    assert parse_geo_uri("geo:52.1,4.2,3.5") == Location(52.1, 4.2)
    assert parse_geo_uri("geo:95,4") is None and parse_geo_uri("Haarlem") is None
    assert strip_reply_fallback("> <@bot:x> Welke wijk?\n> 2e regel\n\nSchalkwijk") == "Schalkwijk"
    assert strip_reply_fallback("Gewoon tekst") == "Gewoon tekst"
    names = ["@wijkbot:localhost", "wijkbot", "Wijkbot"]
    assert strip_mention("Wijkbot: !koppel Schalkwijk", names) == "!koppel Schalkwijk"
    assert strip_mention("wijkbot !help", names) == "!help"
    assert strip_mention("wijkbotten zijn leuk", names) == "wijkbotten zijn leuk"


def test_messages_become_neutral_events() -> None:
    cmd = to_incoming(event({"msgtype": "m.text", "body": "!idee Meer bankjes"}), CHAT, USER, [])
    assert cmd is not None and (cmd.kind, cmd.command, cmd.args) == (
        "command",
        "idee",
        "Meer bankjes",
    )
    assert cmd.message is not None and cmd.message.id == "$e1"

    reply = {
        "msgtype": "m.text",
        "body": "> <@wijkbot:localhost> Welke wijk?\n\nSchalkwijk",
        "m.relates_to": {"m.in_reply_to": {"event_id": "$question"}},
    }
    answer = to_incoming(event(reply), CHAT, USER, [])
    assert answer is not None and answer.kind == "text" and answer.text == "Schalkwijk"
    assert answer.reply_to is not None and answer.reply_to.id == "$question"

    image = {"msgtype": "m.image", "body": "tegel.png", "url": "mxc://localhost/abc"}
    photo = to_incoming(event(image), CHAT, USER, [])
    assert photo is not None and photo.kind == "photo" and photo.attachment is not None
    assert (photo.attachment.file_id, photo.attachment.platform) == (
        "mxc://localhost/abc",
        "matrix",
    )

    where = {"msgtype": "m.location", "body": "hier", "geo_uri": "geo:52.38,4.63"}
    loc = to_incoming(event(where), CHAT, USER, [])
    assert loc is not None and loc.kind == "location" and loc.location == Location(52.38, 4.63)

    vote = {
        "m.relates_to": {"rel_type": "m.reference", "event_id": "$poll"},
        "org.matrix.msc3381.poll.response": {"answers": ["pv:7:2", "pv:7:0"]},
    }
    answer = to_incoming(event(vote, "org.matrix.msc3381.poll.response"), CHAT, USER, [])
    assert answer is not None and answer.kind == "poll_answer" and answer.text == "pv:7"
    assert answer.poll_option_ids == (2, 0) and answer.message is not None
    assert answer.message.id == "$poll"
    vote["org.matrix.msc3381.poll.response"] = {"answers": ["2"]}  # someone else's poll
    assert to_incoming(event(vote, "org.matrix.msc3381.poll.response"), CHAT, USER, []) is None

    edited = {
        "msgtype": "m.text",
        "body": "* nieuw",
        "m.new_content": {"msgtype": "m.text", "body": "nieuw"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": "$old"},
    }
    assert to_incoming(event(edited), CHAT, USER, []) is None  # not answered twice
    notice = {"msgtype": "m.notice", "body": "!help"}
    assert to_incoming(event(notice), CHAT, USER, []) is None  # bots don't answer bots


def test_encrypted_images_keep_what_decrypts_them() -> None:
    key = {"k": "S2V5", "alg": "A256CTR", "ext": True, "kty": "oct", "key_ops": ["decrypt"]}
    file = {"url": "mxc://localhost/abc", "key": key, "iv": "SVY", "hashes": {"sha256": "SA"}}
    content = {"msgtype": "m.image", "body": "lamp.png", "file": file, "v": "v2"}
    photo = to_incoming(decrypted(content), CHAT, USER, [])
    assert photo is not None and photo.attachment is not None
    assert split_file_id(photo.attachment.file_id) == (
        "mxc://localhost/abc", {"k": "S2V5", "iv": "SVY", "sha256": "SA"},
    )  # fmt: skip
    # Without a hash (nio lets it through) the photo is kept by its URL; nothing breaks.
    file["hashes"] = {}
    bare = to_incoming(decrypted(content), CHAT, USER, [])
    assert bare is not None and bare.attachment is not None
    assert split_file_id(bare.attachment.file_id) == ("mxc://localhost/abc", None)


def decrypted(content: dict[str, Any]) -> Any:
    return Event.parse_decrypted_event(
        {"type": "m.room.message", "event_id": "$e2", "sender": "@anna:localhost",
         "origin_server_ts": 1, "content": content}
    )  # fmt: skip
