"""Checks seed/catalogue.yaml against the source document it was transcribed from.

These tests read the YAML with PyYAML and the document as plain text; they do not
use any application loader code, so they check the data file itself.
"""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parents[1]
CATALOGUE = ROOT / "seed" / "catalogue.yaml"
SOURCE = ROOT / "seed" / "source" / "setagaya_wlb_bessatsu_2010.txt"

EXPECTED_DEPARTMENTS = [
    ("children", "子ども部"),
    ("branch-offices", "総合支所"),
    ("health-center", "世田谷保健所"),
    ("health-welfare", "保健福祉部"),
    ("education-board", "教育委員会"),
    ("community-welfare", "地域福祉部"),
    ("lifestyle-culture", "生活文化部"),
    ("industrial-policy", "産業政策部"),
    ("sports-promotion", "スポーツ振興担当部"),
]
SEPARATORS = r"[,，、]"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    with CATALOGUE.open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = yaml.safe_load(fh)
        return loaded


@pytest.fixture(scope="module")
def doc() -> str:
    return SOURCE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def detail(doc: str) -> str:
    """The detailed section (after the overview); the contents page repeats the heading."""
    start = doc.rfind("1 実現のための仕掛け：その1")
    assert start > doc.find("主な取り組み"), "detailed section not found after the overview"
    return doc[start:]


@pytest.fixture(scope="module")
def overview_guideline_groups(doc: str) -> list[list[str]]:
    """The overview diagram's 推進に向けた取り組みの目安 bullets, one list per direction."""
    lines = doc.split("\n")
    start = lines.index("推進に向けた取り組みの目安")
    end = lines.index("主な取り組み", start)
    groups: list[list[str]] = [[]]
    for line in lines[start + 1 : end]:
        s = line.strip()
        if not s:
            continue
        if s == "-":
            groups.append([])
        else:
            groups[-1].append(re.sub(r"^-\s*", "", s))
    return [g for g in groups if g]


@pytest.fixture(scope="module")
def overview_diagram(doc: str) -> str:
    """Overview diagram text from 実現のための仕掛け to the bullets, whitespace removed."""
    start = doc.index("実現のための仕掛け\n")
    end = doc.index("推進に向けた取り組みの目安", start)
    return re.sub(r"\s+", "", doc[start:end])


@pytest.fixture(scope="module")
def contents_directions(doc: str) -> list[str]:
    return re.findall(r"^○(.+)\t\d+$", doc, flags=re.M)


@pytest.fixture(scope="module")
def table_rows(detail: str) -> list[tuple[str, ...]]:
    """Rows of the detailed tables: (guideline text or '', initiatives cell, 担当部 cell)."""
    rows: list[tuple[str, ...]] = []
    for line in detail.split("\n"):
        if "\t" not in line or line.startswith("推進に向けた"):
            continue
        cells = line.split("\t")
        assert len(cells) == 3, line
        rows.append(tuple(cells))
    return rows


# --------------------------------------------------------------------------- helpers


def directions(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [d for c in data["campaigns"] for d in c["directions"]]


def guidelines(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [g for d in directions(data) for g in d["guidelines"]]


def guideline(data: dict[str, Any], code: str) -> dict[str, Any]:
    found = [g for g in guidelines(data) if g["code"] == code]
    assert len(found) == 1, code
    return found[0]


def direction(data: dict[str, Any], code: str) -> dict[str, Any]:
    found = [d for d in directions(data) if d["code"] == code]
    assert len(found) == 1, code
    return found[0]


def groups(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [ig for g in guidelines(data) for ig in g["initiative_groups"]]


# --------------------------------------------------------------------------- counts


def test_counts(data: dict[str, Any]) -> None:
    assert len(data["campaigns"]) == 3
    assert len(directions(data)) == 13
    gls = guidelines(data)
    assert len(gls) == 29
    # Every 目安 of the overview diagram also has its own row in the detailed
    # tables (3.5 included), so there is no overview-only guideline.
    assert [g.get("source") for g in gls].count("table") == 29
    assert [g.get("source") for g in gls].count("overview") == 0
    assert len(data["departments"]) == 9
    assert len(groups(data)) == 53


def test_document_counts(
    table_rows: list[tuple[str, ...]], overview_guideline_groups: list[list[str]]
) -> None:
    """The document itself: 29 guideline rows in the tables, 29 目安 in 13 overview groups."""
    assert len([r for r in table_rows if r[0]]) == 29
    assert len(table_rows) == 53
    assert len(overview_guideline_groups) == 13
    assert sum(len(g) for g in overview_guideline_groups) == 29


def test_guidelines_per_direction_match_overview(
    data: dict[str, Any], overview_guideline_groups: list[list[str]]
) -> None:
    per_direction = [len(d["guidelines"]) for d in directions(data)]
    assert per_direction == [len(g) for g in overview_guideline_groups]
    assert per_direction == [4, 3, 3, 3, 2, 3, 1, 1, 2, 2, 2, 1, 2]


def test_every_group_has_initiatives_and_departments(data: dict[str, Any]) -> None:
    for g in guidelines(data):
        assert g["initiative_groups"], g["code"]
        for ig in g["initiative_groups"]:
            assert len(ig["initiatives"]) >= 1, g["code"]
            assert len(ig["departments"]) >= 1, g["code"]
            assert all(isinstance(x, str) and x == x.strip() and x for x in ig["initiatives"])
            assert len(set(ig["departments"])) == len(ig["departments"]), g["code"]


# --------------------------------------------------------------------------- departments


def test_departments_exact(data: dict[str, Any]) -> None:
    assert [(d["code"], d["name"]) for d in data["departments"]] == EXPECTED_DEPARTMENTS
    for d in data["departments"]:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", d["code"])
        assert d["name_en"]
        assert d["name_en"].isascii()


def test_department_references_exist_and_all_used(data: dict[str, Any]) -> None:
    known = {d["code"] for d in data["departments"]}
    used = [c for ig in groups(data) for c in ig["departments"]]
    assert set(used) <= known
    assert set(used) == known


def test_departments_in_order_of_first_appearance(data: dict[str, Any]) -> None:
    order = []
    for ig in groups(data):
        for c in ig["departments"]:
            if c not in order:
                order.append(c)
    assert order == [d["code"] for d in data["departments"]]


def test_department_names_in_document(data: dict[str, Any], doc: str) -> None:
    squashed = re.sub(r"\s+", "", doc)
    for d in data["departments"]:
        assert d["name"] in squashed, d["name"]
    # スポーツ振興担当部 is only found once the extraction's line break is removed.
    assert "スポーツ振興担当部" not in doc


# --------------------------------------------------------------------------- codes


def test_codes_unique_and_well_formed(data: dict[str, Any]) -> None:
    all_codes = []
    for ci, c in enumerate(data["campaigns"], 1):
        assert isinstance(c["code"], str)
        assert c["code"] == str(ci)
        all_codes.append(c["code"])
        for di, d in enumerate(c["directions"], 1):
            assert isinstance(d["code"], str)
            assert re.fullmatch(r"[1-3]\.[1-9]", d["code"])
            assert d["code"] == f"{c['code']}.{di}"
            all_codes.append(d["code"])
            for gi, g in enumerate(d["guidelines"], 1):
                assert isinstance(g["code"], str)
                assert re.fullmatch(r"[1-3]\.[1-9]\.[1-9]", g["code"])
                assert g["code"] == f"{d['code']}.{gi}", "guidelines not consecutive"
                all_codes.append(g["code"])
    assert len(all_codes) == len(set(all_codes)) == 3 + 13 + 29
    dept_codes = [d["code"] for d in data["departments"]]
    assert len(dept_codes) == len(set(dept_codes))


def test_direction_codes(data: dict[str, Any]) -> None:
    assert [d["code"] for d in directions(data)] == [
        "1.1",
        "1.2",
        "1.3",
        "2.1",
        "2.2",
        "2.3",
        "2.4",
        "2.5",
        "3.1",
        "3.2",
        "3.3",
        "3.4",
        "3.5",
    ]


# --------------------------------------------------------------------------- verbatim text


def test_texts_verbatim_in_document(data: dict[str, Any], doc: str, detail: str) -> None:
    for c in data["campaigns"]:
        assert c["tagline"] in detail, c["tagline"]
        assert f"{c['code']} {c['mechanism']}" in detail
    for d in directions(data):
        assert f"\n○{d['name']}\n" in detail, d["name"]
        assert f"\n{d['description']}\n" in detail, d["code"]
    for g in guidelines(data):
        assert g["text"] in doc, g["code"]
        if g.get("source") == "table":
            assert f"\n{g['text']}\t" in detail, g["code"]
    for ig in groups(data):
        for name in ig["initiatives"]:
            assert name in detail, name
            assert not re.search(SEPARATORS, name), f"unsplit initiative: {name}"


def test_campaigns_literal(data: dict[str, Any]) -> None:
    assert [(c["code"], c["name"], c["tagline"], c["mechanism"]) for c in data["campaigns"]] == [
        (
            "1",
            "家族のふれあいいっぱい大作戦",
            "~家族のふれあいをいっぱいしていきます~",
            "実現のための仕掛け：その1",
        ),
        (
            "2",
            "地域の課題みんなで解決大作戦",
            "～地域の様々な課題をみんなで解決していきます～",
            "実現のための仕掛け：その2",
        ),
        (
            "3",
            "働きたくなる職場倍増大作戦",
            "～働きたくなる職場を増やしていきます～",
            "実現のための仕掛け：その3",
        ),
    ]


def test_rows_match_detailed_tables(data: dict[str, Any], table_rows: list[tuple[str, ...]]) -> None:
    """Each table row, in document order, is one initiative group of the right guideline."""
    names = {d["code"]: d["name"] for d in data["departments"]}
    flat = [(g, ig) for g in guidelines(data) if g.get("source") == "table" for ig in g["initiative_groups"]]
    assert len(flat) == len(table_rows)
    current = None
    for (g, ig), (text, inits, depts) in zip(flat, table_rows, strict=True):
        if text:
            current = text
        assert g["text"] == current
        assert ig["initiatives"] == [x.strip() for x in re.split(SEPARATORS, inits)]
        assert "".join(names[c] for c in ig["departments"]) == depts.replace(" ", "")


# --------------------------------------------------------------------------- spot checks


def test_spot_checks_section_1(data: dict[str, Any]) -> None:
    g = guideline(data, "1.1.1")
    assert g["text"] == "子育てや子どもの生活への支援に取り組めます。"
    assert len(g["initiative_groups"]) == 4
    assert g["initiative_groups"][0] == {
        "initiatives": [
            "さんさんサポート",
            "産後ケア事業",
            "養育困難家庭の自立支援",
            "配慮を要する子どもへの支援",
        ],
        "departments": ["children"],
    }
    g2 = g["initiative_groups"][1]
    assert g2["departments"] == ["branch-offices", "children", "health-center"]
    assert len(g2["initiatives"]) == 10
    assert g2["initiatives"][6] == "母と子の関係を考える会(MC G)"
    assert g2["initiatives"][-1] == "母子栄養相談"

    assert guideline(data, "1.1.2")["initiative_groups"][1]["departments"] == [
        "health-welfare",
        "community-welfare",
    ]
    assert guideline(data, "1.1.4")["initiative_groups"][1] == {
        "initiatives": ["DV防止啓発", "DV相談事業", "女性のための相談事業"],
        "departments": ["branch-offices", "lifestyle-culture"],
    }
    assert guideline(data, "1.3.1")["initiative_groups"] == [
        {
            "initiatives": [
                "認可保育園の整備・認証保育所等多様な保育サービスの提供",
                "一時預かり事業",
                "トワイライトステイ",
                "新 BOP 学童クラブ",
            ],
            "departments": ["children"],
        }
    ]
    assert (
        guideline(data, "1.2.1")["text"]
        == "区民による地域での様々な活動や、区政などへの参画に向けて支援を行います。"
    )


def test_spot_checks_section_2(data: dict[str, Any]) -> None:
    g = guideline(data, "2.1.2")
    assert g["initiative_groups"][0]["departments"] == ["sports-promotion", "education-board"]
    assert g["initiative_groups"][0]["initiatives"] == [
        "総合型地域スポーツクラブへの支援",
        "高齢者・障害者スポーツ事業の実施",
        "区立学校施設等の活用",
    ]
    assert g["initiative_groups"][3] == {
        "initiatives": ["元気体操リーダーの養成事業"],
        "departments": ["health-center"],
    }
    assert (
        guideline(data, "2.1.1")["text"] == "区民による地域での様々な活動や、区民参加に向けて支援を行います。"
    )
    assert guideline(data, "2.4.1")["initiative_groups"][1:] == [
        {"initiatives": ["中高生などの自立支援"], "departments": ["children", "education-board"]},
        {
            "initiatives": ["キャリア教育の推進", "「才能の芽を育てる」体験学習の推進"],
            "departments": ["education-board"],
        },
    ]
    assert guideline(data, "2.5.1")["initiative_groups"] == [
        {
            "initiatives": [
                "農業サポーターの登録",
                "体験農園の開園",
                "次大夫堀自然体験農園事業",
                "ふれあい農園",
            ],
            "departments": ["industrial-policy"],
        }
    ]
    assert direction(data, "2.5")["name"] == "農を生かした地域活動の充実"


def test_spot_checks_section_3(data: dict[str, Any]) -> None:
    assert direction(data, "3.2")["name"] == "多様な求職者と就業とのマッチング"
    assert direction(data, "3.1")["name"] == "中小企業における男女共同参画、ワーク・ライフ・バランス支援"
    assert guideline(data, "3.3.2")["initiative_groups"][0]["departments"] == [
        "lifestyle-culture",
        "industrial-policy",
        "health-welfare",
    ]
    assert guideline(data, "3.1.1")["initiative_groups"][0]["initiatives"] == [
        "就労相談総合窓口・就業マッチング事業",
        "区内企業研修への講師派遣",
        "講習会などによる経営の向上促進",
        "区内産業人材育成事業",
    ]
    g = guideline(data, "3.5.2")
    expected = "区内で働く人の労働環境の向上やワーク・ライフ・バランスの実現に向けた雇用環境づくりについて支援を行います。"  # noqa: E501
    assert g["text"] == expected
    assert g["source"] == "table"
    assert g["initiative_groups"] == [
        {
            "initiatives": ["ワーク・ライフ・バランス啓発促進", "均等処遇・短時間正社員制度の普及事業"],
            "departments": ["industrial-policy"],
        }
    ]
    assert guideline(data, "3.4.1")["initiative_groups"][0] == {
        "initiatives": ["出前型健康教育(専門職派遣事業)", "こころの相談"],
        "departments": ["branch-offices", "health-center"],
    }


# --------------------------------------------------------------------------- variant notes


def test_known_variant_notes(data: dict[str, Any]) -> None:
    assert "取り組みます" in guideline(data, "1.1.1")["note"]
    assert "農を活かした" in direction(data, "2.5")["note"]
    assert "就業のマッチング" in direction(data, "3.2")["note"]
    assert "中中小企業" in direction(data, "3.1")["note"]
    assert "買い物場" in guideline(data, "2.2.2")["note"]


def test_notes_exactly_where_document_disagrees(
    data: dict[str, Any],
    overview_guideline_groups: list[list[str]],
    overview_diagram: str,
    contents_directions: list[str],
) -> None:
    """A note is present iff the overview/contents wording differs from the table's."""
    assert len(contents_directions) == 13
    for d, ov_group, contents_name in zip(
        directions(data), overview_guideline_groups, contents_directions, strict=True
    ):
        differs = contents_name != d["name"] or re.sub(r"\s+", "", d["name"]) not in overview_diagram
        assert (d["note"] is not None) == differs, d["code"]
        for g in d["guidelines"]:
            assert (g["note"] is not None) == (g["text"] not in ov_group), g["code"]
    for c in data["campaigns"]:
        assert c.get("note") is None
