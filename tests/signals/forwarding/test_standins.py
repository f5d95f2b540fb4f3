"""The stand-ins themselves answer bad requests the way the real APIs do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.signals.forwarding.conftest import PNG
from tests.signals.forwarding.hoods import SIGNALEN_SECRET, SIGNALEN_USER, private_signalen
from tests.standins import oidc
from tests.standins.open311 import Open311StandIn
from tests.standins.signalen import SignalenStandIn


def good_signal(s: SignalenStandIn) -> dict[str, Any]:
    return {
        "text": "Kapotte stoeptegel",
        "location": {"geometrie": {"type": "Point", "coordinates": [4.65, 52.36]}},
        "category": {"sub_category": s.category_url("overig", "overig")},
        "reporter": {"sharing_allowed": False},
        "incident_date_start": "2025-03-03T13:05:00+00:00",
    }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"text": None}, {"text": ["Dit veld is vereist."]}),
        ({"location": {"address": {}}}, {"location": ["Coordinate data must be present"]}),
        ({"location": {"geometrie": {"type": "Polygon", "coordinates": []}}},
         {"location": {"geometrie": ["Ongeldige geometrie: verwacht een GeoJSON Point."]}}),
        ({"category": {"sub_category": "https://x/signals/v1/public/terms/categories/a/sub_categories/b"}},
         {"category": {"sub_category": ["Ongeldige hyperlink - Object bestaat niet."]}}),
        ({"category": {"sub_category": "nonsense"}},
         {"category": {"sub_category": ["Ongeldige hyperlink - Ongeldige URL match."]}}),
        ({"title": "extra"}, {"non_field_errors": ["Extra properties present: title"]}),
        ({"source": "api-key-only"}, {"source": ["Invalid source given for anonymous user"]}),
        ({"extra_properties": [{"id": "x"}]}, {"extra_properties": ["Invalid input."]}),
        # Signalen's schema: no "-" in the host of category_url.
        ({"extra_properties": [{"id": "x", "label": "X", "answer": "1", "category_url":
            "https://api.meldingen-haarlem.nl/signals/v1/public/terms/categories/a/sub_categories/b"}]},
         {"extra_properties": ["Invalid input."]}),
    ],
)  # fmt: skip
async def test_signalen_rejects_like_django_rest_framework(
    change: dict[str, Any], expected: dict[str, Any]
) -> None:
    async with SignalenStandIn() as s, httpx.AsyncClient() as client:
        body = {k: v for k, v in (good_signal(s) | change).items() if v is not None}
        answer = await client.post(f"{s.base_url}/signals/v1/public/signals/", json=body)
        assert (answer.status_code, answer.json()) == (400, expected)
        ok = await client.post(f"{s.base_url}/signals/v1/public/signals/", json=good_signal(s))
        # The public status is OPEN or CLOSED, never a workflow code or a text.
        assert ok.status_code == 201 and ok.json()["status"] == {
            "state": "OPEN",
            "state_display": "Open",
        }
        uuid = ok.json()["signal_id"]
        missing = await client.post(f"{s.base_url}/signals/v1/public/signals/{uuid}/attachments/")
        assert missing.status_code == 415
        no_file = await client.post(
            f"{s.base_url}/signals/v1/public/signals/{uuid}/attachments", files={"other": b"x"}
        )
        assert (no_file.status_code, no_file.json()) == (400, {"file": ["Er is geen bestand opgestuurd."]})  # fmt: skip


@pytest.mark.parametrize(
    ("form", "status", "description"),
    [
        ({"api_key": "fout"}, 403, "Invalid api_key"),
        ({"service_code": ""}, 400, "service_code was not provided"),
        ({"service_code": "XX"}, 404, "Service code XX not found"),
        ({"lat": ""}, 400, "lat and long must both be given as decimal degrees"),
        ({"description": "x" * 4001}, 400, "description may be at most 4000 characters"),
    ],
)
async def test_open311_rejects_with_georeport_errors(
    form: dict[str, str], status: int, description: str
) -> None:
    async with Open311StandIn(api_key="k") as o, httpx.AsyncClient() as client:
        good = {"api_key": "k", "service_code": "OV-99", "lat": "52.36", "long": "4.65"}
        answer = await client.post(f"{o.base_url}/requests.json", data=good | form)
        assert (answer.status_code, answer.json()) == (status, [{"code": status, "description": description}])  # fmt: skip
        no_place = {"api_key": "k", "service_code": "OV-99"}
        assert (await client.post(f"{o.base_url}/requests.json", data=no_place)).status_code == 400
        as_json = await client.post(f"{o.base_url}/requests.json", json=good)
        assert as_json.status_code == 400
        ok = await client.post(f"{o.base_url}/requests.json", data=good)
        [created] = ok.json()
        shown = await client.get(f"{o.base_url}/requests/{created['service_request_id']}.json")
        assert shown.json()[0]["status"] == "open" and shown.json()[0]["lat"] == 52.36


async def test_signalen_takes_a_hyphen_in_the_path_and_only_real_images() -> None:
    """extra_properties with a path pass; an attachment must be JPEG/PNG/GIF by its bytes,
    with a matching extension (apps/services/validator/file.py)."""
    path = "/signals/v1/public/terms/categories/overig/sub_categories/overig-openbare-ruimte"
    webp = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 16
    async with SignalenStandIn() as s, httpx.AsyncClient() as client:
        extra = [{"id": "x", "label": "X", "answer": "1", "category_url": path}]
        ok = await client.post(
            f"{s.base_url}/signals/v1/public/signals/",
            json=good_signal(s) | {"extra_properties": extra},
        )
        assert ok.status_code == 201, ok.text
        attach = f"{s.base_url}/signals/v1/public/signals/{ok.json()['signal_id']}/attachments"
        refused = await client.post(attach, files={"file": ("foto.webp", webp, "image/webp")})
        assert refused.json() == {"file": ["Files of type 'image/webp' are not allowed!"]}
        renamed = await client.post(attach, files={"file": ("foto.jpg", PNG, "image/jpeg")})
        assert renamed.json() == {"file": ["'image/png' does not match filename extension!"]}
        fine = await client.post(attach, files={"file": ("foto.png", PNG, "image/png")})
        assert fine.status_code == 201


async def test_signalen_private_api_wants_a_token_from_the_provider() -> None:
    """A bearer JWT signed by the provider's key, for a known user; then the workflow."""
    async with private_signalen() as s, httpx.AsyncClient() as client:
        ok = await client.post(f"{s.base_url}/signals/v1/public/signals/", json=good_signal(s))
        url = f"{s.base_url}/signals/v1/private/signals/{ok.json()['id']}"
        assert (await client.get(url)).status_code == 401
        forged = oidc.sign(oidc.new_key(), {"iss": s.ISSUER, "aud": s.AUDIENCE,
                                            "email": SIGNALEN_USER, "exp": 2**40})  # fmt: skip
        bad = await client.get(url, headers={"Authorization": f"Bearer {forged}"})
        assert bad.status_code == 401 and "Bearer" in bad.headers["WWW-Authenticate"]
        wrong = await client.post(f"{s.base_url}/oidc/token", data={
            "grant_type": "client_credentials", "client_id": "wijkbot", "client_secret": "nee"})  # fmt: skip
        assert wrong.status_code == 401
        token = (await client.post(f"{s.base_url}/oidc/token", data={
            "grant_type": "client_credentials", "client_id": "wijkbot",
            "client_secret": SIGNALEN_SECRET})).json()["access_token"]  # fmt: skip
        auth = {"Authorization": f"Bearer {token}"}
        detail = await client.get(url, headers=auth)
        assert detail.json()["status"]["state"] == "m" and detail.json()["id_display"] == "SIG-1"
        early = await client.patch(
            url, headers=auth, json={"status": {"state": "reopen requested"}}
        )
        assert early.status_code == 400 and "Invalid state transition" in early.text
        no_text = await client.patch(url, headers=auth, json={"status": {"state": "o"}})
        assert no_text.status_code == 400 and "text" in no_text.text
        done = await client.patch(
            url, headers=auth, json={"status": {"state": "o", "text": "Klaar"}}
        )
        assert done.status_code == 200
        public = await client.get(
            f"{s.base_url}/signals/v1/public/signals/{ok.json()['signal_id']}"
        )
        assert public.json()["status"]["state"] == "CLOSED"
        again = await client.patch(
            url, headers=auth, json={"status": {"state": "reopen requested"}}
        )
        assert again.status_code == 200 and again.json()["status"]["state"] == "reopen requested"
