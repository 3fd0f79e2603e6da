"""``tokendice lessons list|show|run``: the built-in lessons from the command line, run through the real
SmolLM2 as the window runs them (system prompt, earlier turns, the lesson's settings and length)."""

from __future__ import annotations

import json
from pathlib import Path

from desktop_app.core.lessons import BY_ID, LESSONS
from tests.helpers import run_cli
from tests.pack_helpers import lesson_text, write_pack, write_zip


def _json(args: list[str]) -> dict:
    out = run_cli(args)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_list_and_show_in_both_languages():
    data = _json(["lessons", "list", "--json", "--language", "zh_TW"])
    assert [r["id"] for r in data["lessons"]] == [lesson.id for lesson in LESSONS]
    assert data["lessons"][0]["title"] == LESSONS[0].text("title", "zh_TW")
    text = run_cli(["lessons", "list"]).stdout
    assert all(lesson.id in text for lesson in LESSONS)
    wait = _json(["lessons", "show", "wait", "--json"])
    assert wait["settings"]["wait_count"] == 2 and wait["thinking"]["settings"]["think_wait"] == 2
    assert wait["thinking"]["recommends"]["repo_id"] == BY_ID["wait"].recommends.repo_id
    assert "s1" in wait["explanation"] and wait["max_tokens"] == BY_ID["wait"].max_tokens


def test_run_sends_the_lesson_through_the_model_with_its_settings(smollm2_path):
    lesson = BY_ID["hallucination"]  # answers side by side, each with its own system prompt
    data = _json(["lessons", "run", "hallucination", "--model", str(smollm2_path), "--json"])
    assert [r["label"] for r in data["replies"]] == [a.title("en") for a in lesson.side_by_side]
    assert [r["system"] for r in data["replies"]] == [a.system_prompt("en") for a in lesson.side_by_side]
    assert all(r["text"] and len(r["tokens"]) <= lesson.max_tokens for r in data["replies"])
    assert data["settings"]["temperature"] == lesson.sampler_settings().get("temperature", 0.8)
    # A lesson for a thinking model on one that does not think: its fallback settings, and it says so.
    wait = run_cli(["lessons", "run", "wait", "--model", str(smollm2_path)])
    assert wait.returncode == 0, wait.stderr
    assert "does not think" in wait.stdout and "Wait" in wait.stdout
    data = _json(["lessons", "run", "wait", "--model", str(smollm2_path), "--json"])
    assert data["thinks"] is False and data["settings"]["wait_count"] == 2 and data["max_tokens"] == 96


def test_an_unknown_lesson_is_one_line_naming_the_lessons():
    out = run_cli(["lessons", "show", "nope"])
    assert out.returncode == 1 and "there is no lesson 'nope'" in out.stderr and "continuation" in out.stderr


def test_validate_reads_lesson_files_as_the_app_does(tmp_path):
    good = sorted((Path(__file__).parents[2] / "resources" / "lessons").glob("*.toml"))
    data = _json(["lessons", "validate", *map(str, good), "--json"])
    assert [f["id"] for f in data["files"]] == [lesson.id for lesson in LESSONS]
    broken = tmp_path / "mine.toml"
    broken.write_text(good[0].read_text(encoding="utf-8").replace('view = "chart"', 'view = "radio"'))
    out = run_cli(["lessons", "validate", str(good[0]), str(broken)])
    assert out.returncode == 1 and "continuation" in out.stdout
    assert "mine.toml, line 4: view: 'radio' is not one of" in out.stderr


def test_lesson_packs_are_added_listed_shown_and_removed(tmp_path, tokendice_home):
    folder = write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants", "Ants")}, name="Week 3")
    out = run_cli(["lessons", "add", str(folder)])
    assert out.returncode == 0, out.stderr
    kept = tokendice_home / "data" / "lessons" / "week-3"
    assert out.stdout.splitlines()[:2] == [
        f"Added the lesson pack week-3 “Week 3”: 1 lesson(s), kept in {kept}",
        "  week-3/ants  Ants",
    ]
    write_pack(folder, {"b.toml": lesson_text("bees", "Bees")})
    out = run_cli(["lessons", "add", str(folder)])
    assert out.returncode == 0 and out.stdout.startswith(
        "Replaced the earlier lesson pack week-3 “Week 3”: 2"
    )
    data = _json(["lessons", "list", "--json"])
    assert [r["id"] for r in data["lessons"]] == [x.id for x in LESSONS] + ["week-3/ants", "week-3/bees"]
    assert data["packs"][0]["name"] == "Week 3" and data["packs"][0]["error"] is None
    assert _json(["lessons", "list", "--json", "--language", "zh_TW"])["packs"][0]["name"] == "第三週"
    assert _json(["lessons", "show", "week-3/bees", "--json"])["title"] == "Bees"
    out = run_cli(["lessons", "show", "week-3/nope"])
    assert (
        out.returncode == 1
        and "there is no lesson 'week-3/nope'" in out.stderr
        and "week-3/ants" in out.stderr
    )
    out = run_cli(["lessons", "remove", "week-3"])
    assert out.returncode == 0 and "Removed the lesson pack week-3 “Week 3” and its 2 lesson(s)" in out.stdout
    assert [r["id"] for r in _json(["lessons", "list", "--json"])["lessons"]] == [x.id for x in LESSONS]
    out = run_cli(["lessons", "remove", "week-3"])
    assert out.returncode == 1 and "There is no lesson pack 'week-3'" in out.stderr


def test_a_broken_pack_is_refused_and_one_broken_by_hand_is_listed_with_a_warning(tmp_path, tokendice_home):
    bad = write_pack(tmp_path / "bad", {"a.toml": lesson_text("ants", view="radio")})
    out = run_cli(["lessons", "add", str(bad)])
    assert out.returncode == 1
    assert out.stderr.strip() == (
        "tokendice: error: The lesson pack “bad” was not opened: a.toml, line 2: view: 'radio' is not one of "
        "chart, die, waterfall, end, template, tokens, compare, facts."
    )
    archive = write_zip(tmp_path / "week3.zip", {"week3/a.toml": lesson_text("ants")})
    assert run_cli(["lessons", "add", str(archive)]).returncode == 0
    installed = tokendice_home / "data" / "lessons" / "week3" / "a.toml"
    installed.write_text("id = 3\n", encoding="utf-8")
    out = run_cli(["lessons", "list"])
    assert out.returncode == 0 and "week3/ants" not in out.stdout
    assert (
        "tokendice: warning: The lesson pack in" in out.stderr
        and "a.toml, line 1: id: must be text" in out.stderr
    )


def test_run_sends_a_pack_lesson_through_the_model(tmp_path, smollm2_path):
    folder = write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants")})
    assert run_cli(["lessons", "add", str(folder)]).returncode == 0
    data = _json(["lessons", "run", "wk3/ants", "--model", str(smollm2_path), "--json"])
    assert data["lesson"] == "ants" and data["max_tokens"] == 8 and data["replies"][0]["text"]
