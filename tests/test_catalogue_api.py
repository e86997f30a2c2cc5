"""The catalogue read API serves the seed document's catalogue, row for row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

SEED = yaml.safe_load((Path(__file__).parents[1] / "seed" / "catalogue.yaml").read_text(encoding="utf-8"))


def _seed_guidelines() -> list[dict[str, Any]]:
    return [g for c in SEED["campaigns"] for d in c["directions"] for g in d["guidelines"]]


async def test_campaigns_are_the_three_daisakusen(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/campaigns")
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 3
    assert [c["code"] for c in body["items"]] == ["1", "2", "3"]
    first = body["items"][0]
    assert first["name"] == "家族のふれあいいっぱい大作戦"
    assert first["tagline"] == "~家族のふれあいをいっぱいしていきます~"
    assert first["mechanism"] == "実現のための仕掛け：その1"
    assert first["directions"] == [
        {"code": "1.1", "name": "豊かな家庭づくり"},
        {"code": "1.2", "name": "働く人の家庭・地域活動への参画促進"},
        {"code": "1.3", "name": "地域活動や就労を支援するサービスの充実"},
    ]


async def test_campaign_detail_and_unknown_code(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/campaigns/3")
    assert response.status_code == 200
    assert response.json()["name"] == "働きたくなる職場倍増大作戦"
    assert len(response.json()["directions"]) == 5

    missing = await viewer.get("/api/v1/campaigns/9")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "code" in missing.json()["detail"]


async def test_directions_with_descriptions_and_guidelines(viewer: httpx.AsyncClient) -> None:
    body = (await viewer.get("/api/v1/directions")).json()
    assert body["total"] == 13
    assert [d["code"] for d in body["items"]][:4] == ["1.1", "1.2", "1.3", "2.1"]
    direction = (await viewer.get("/api/v1/directions/2.5")).json()
    assert direction["name"] == "農を生かした地域活動の充実"
    assert direction["campaign"] == "2"
    assert direction["description"].startswith("区内農家と連携し身近にある農地を活かし")
    assert direction["guidelines"] == [
        {"code": "2.5.1", "text": "農業と連携した地域活動の推進に取り組みます。"}
    ]
    assert "農を活かした" in direction["note"]
    assert (await viewer.get("/api/v1/directions/2.9")).status_code == 404


async def test_every_seed_guideline_is_served_as_written(viewer: httpx.AsyncClient) -> None:
    body = (await viewer.get("/api/v1/guidelines")).json()
    assert body["total"] == 29
    served = {g["code"]: g for g in body["items"]}
    for seeded in _seed_guidelines():
        guideline = served[str(seeded["code"])]
        assert guideline["text"] == seeded["text"]
        groups = seeded["initiative_groups"]
        assert isinstance(groups, list)
        assert [g["initiatives"] for g in guideline["initiative_groups"]] == [
            g["initiatives"] for g in groups
        ]
        assert [sorted(d["code"] for d in g["departments"]) for g in guideline["initiative_groups"]] == [
            sorted(g["departments"]) for g in groups
        ]


async def test_guideline_detail_repairs_department_line_breaks(viewer: httpx.AsyncClient) -> None:
    guideline = (await viewer.get("/api/v1/guidelines/2.1.2")).json()
    assert guideline["direction"] == "2.1"
    assert guideline["campaign"] == "2"
    first_group = guideline["initiative_groups"][0]
    assert first_group["initiatives"] == [
        "総合型地域スポーツクラブへの支援",
        "高齢者・障害者スポーツ事業の実施",
        "区立学校施設等の活用",
    ]
    assert {d["name"] for d in first_group["departments"]} == {"スポーツ振興担当部", "教育委員会"}
    assert {d["code"] for d in guideline["departments"]} == {
        "sports-promotion",
        "education-board",
        "health-center",
    }

    shared = (await viewer.get("/api/v1/guidelines/1.1.1")).json()
    assert {d["name"] for d in shared["initiative_groups"][1]["departments"]} == {
        "総合支所",
        "子ども部",
        "世田谷保健所",
    }
    assert shared["text"] == "子育てや子どもの生活への支援に取り組めます。"
    assert "取り組みます" in shared["note"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("campaign=3", ["3.1.1", "3.1.2", "3.2.1", "3.2.2", "3.3.1", "3.3.2", "3.4.1", "3.5.1", "3.5.2"]),
        ("direction=2.2", ["2.2.1", "2.2.2"]),
        ("department=sports-promotion", ["2.1.2", "2.3.1"]),
        ("department=health-welfare&campaign=3", ["3.2.2", "3.3.2"]),
    ],
)
async def test_guideline_filters(viewer: httpx.AsyncClient, query: str, expected: list[str]) -> None:
    body = (await viewer.get(f"/api/v1/guidelines?{query}")).json()
    assert [g["code"] for g in body["items"]] == expected
    assert body["total"] == len(expected)


async def test_departments_and_their_guidelines(viewer: httpx.AsyncClient) -> None:
    body = (await viewer.get("/api/v1/departments")).json()
    assert body["total"] == 9
    assert {d["code"] for d in body["items"]} == {
        "children",
        "branch-offices",
        "health-center",
        "health-welfare",
        "education-board",
        "community-welfare",
        "lifestyle-culture",
        "industrial-policy",
        "sports-promotion",
    }
    sports = (await viewer.get("/api/v1/departments/sports-promotion")).json()
    assert sports["name"] == "スポーツ振興担当部"
    assert [g["code"] for g in sports["guidelines"]] == ["2.1.2", "2.3.1"]
    assert (await viewer.get("/api/v1/departments/nobody")).status_code == 404


async def test_initiative_search_by_japanese_substring(viewer: httpx.AsyncClient) -> None:
    body = (await viewer.get("/api/v1/initiatives", params={"q": "農園"})).json()
    assert [(i["name"], i["guideline"]) for i in body["items"]] == [
        ("体験農園の開園", "2.5.1"),
        ("次大夫堀自然体験農園事業", "2.5.1"),
        ("ふれあい農園", "2.5.1"),
    ]
    assert body["items"][0]["departments"] == [{"code": "industrial-policy", "name": "産業政策部"}]
    everything = (await viewer.get("/api/v1/initiatives")).json()
    seeded = sum(len(g["initiatives"]) for s in _seed_guidelines() for g in s["initiative_groups"])
    assert everything["total"] == seeded
    assert (await viewer.get("/api/v1/initiatives", params={"q": "存在しない取り組み"})).json()["total"] == 0


async def test_api_needs_a_token_but_probes_do_not(client: httpx.AsyncClient) -> None:
    denied = await client.get("/api/v1/guidelines")
    assert denied.status_code == 401
    assert denied.headers["content-type"].startswith("application/problem+json")
    bad = await client.get("/api/v1/guidelines", headers={"Authorization": "Bearer wlb_not-a-token"})
    assert bad.status_code == 401
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/ready")).status_code == 200
    assert (await client.get("/schema/openapi.json")).status_code == 200


async def test_unknown_route_is_a_problem_document(viewer: httpx.AsyncClient) -> None:
    response = await viewer.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/guidelines?campaign=7", "campaign"),
        ("/api/v1/guidelines?direction=9.9", "direction"),
        ("/api/v1/guidelines?department=nowhere", "department"),
        ("/api/v1/directions?campaign=7", "campaign"),
        ("/api/v1/indicators?department=nowhere", "department"),
        ("/api/v1/indicators?guideline=9.9.9", "guideline"),
        ("/api/v1/guidelines/1.1.1/reports/history?department=nowhere", "department"),
        ("/api/v1/export/values?department=nowhere", "department"),
        ("/api/v1/export/reports?campaign=7", "campaign"),
        ("/api/v1/export/values?campaign=7", "campaign"),
    ],
)
async def test_an_unknown_code_in_a_filter_is_422_naming_the_parameter(
    viewer: httpx.AsyncClient, path: str, parameter: str
) -> None:
    response = await viewer.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith(f"{parameter}: ")
