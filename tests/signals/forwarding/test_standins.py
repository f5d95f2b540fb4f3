"""The stand-ins themselves answer bad requests the way the real APIs do."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

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
        assert ok.status_code == 201 and ok.json()["status"]["state"] == "m"
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
