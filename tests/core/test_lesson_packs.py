"""Lesson packs: read from a lesson file, a folder with a pack.toml, or a zip (safely: no entry leaves the
pack, none is read beyond the size of a lesson file), every lesson checked; kept in the lessons folder,
replaced when opened again, removed, listed even when broken by hand; a lesson saved into My lessons."""

from __future__ import annotations

import errno
import struct
import zipfile
from pathlib import Path

import pytest

from desktop_app.core import lesson_packs
from desktop_app.core.lesson_files import MAX_BYTES
from desktop_app.core.lesson_packs import MINE, LessonPackError, LessonPacks, builtin_pack, read_pack
from desktop_app.core.lessons import LESSONS
from tests.pack_helpers import lesson_text, write_pack, write_zip


@pytest.fixture
def packs(tmp_path: Path) -> LessonPacks:
    return LessonPacks(tmp_path / "home" / "lessons")


def _installed(packs: LessonPacks) -> list[str]:
    return sorted(p.name for p in packs.root.iterdir()) if packs.root.exists() else []


def test_a_pack_of_one_lesson_file_is_named_after_it(tmp_path):
    path = tmp_path / "Colours Briefly.toml"
    path.write_text(lesson_text("colours"), encoding="utf-8")
    pack = read_pack(path)
    assert (pack.id, pack.name) == ("colours-briefly", "Colours Briefly")
    assert [x.id for x in pack.lessons] == ["colours"]
    # A name that is not safe inside the pack's folder gives way to the lesson's id.
    assert [name for name, _ in pack.files] == ["colours.toml"]


def test_a_folder_with_a_pack_toml_names_the_pack_in_each_language(tmp_path):
    folder = write_pack(
        tmp_path / "wk3",
        {"02-b.toml": lesson_text("bees"), "01-a.toml": lesson_text("ants"), "notes.txt": "not a lesson"},
        name="Week 3",
    )
    write_pack(folder / "drafts", {"c.toml": "this is not read: folders below are not the pack's"})
    pack = read_pack(folder)
    assert (pack.id, pack.name, pack.title("zh_TW"), pack.title("fr")) == (
        "week-3",
        "Week 3",
        "第三週",
        "Week 3",
    )
    assert [x.id for x in pack.lessons] == ["ants", "bees"]  # in the order of their file names
    assert [name for name, _ in pack.files] == ["01-a.toml", "02-b.toml"]
    (folder / "pack.toml").write_text('id = "w3"\nname = "Week three"\n', encoding="utf-8")
    assert (read_pack(folder).id, read_pack(folder).names["en"]) == ("w3", "Week three")


def test_a_zip_with_one_top_folder_is_read_in_memory(tmp_path):
    archive = write_zip(
        tmp_path / "week3.zip",
        {
            "week3/pack.toml": 'name = "Week 3"\n',
            "week3/01-a.toml": lesson_text("ants"),
            "week3/02-b.toml": lesson_text("bees"),
            "week3/README.md": "# read me",
            "__MACOSX/week3/._01-a.toml": b"\x00\x05\x16\x07 resource fork",
        },
    )
    pack = read_pack(archive)
    assert (pack.id, pack.name, [x.id for x in pack.lessons]) == ("week-3", "Week 3", ["ants", "bees"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["week3.zip"]  # nothing was extracted
    at_root = write_zip(tmp_path / "flat.zip", {"a.toml": lesson_text("ants")})
    assert (read_pack(at_root).id, [x.id for x in read_pack(at_root).lessons]) == ("flat", ["ants"])


def test_one_bad_lesson_refuses_the_pack_with_its_file_line_and_field(tmp_path, packs):
    folder = write_pack(
        tmp_path / "Week 4", {"a.toml": lesson_text("ants"), "mine.toml": lesson_text("mine", view="radio")}
    )
    with pytest.raises(LessonPackError) as caught:
        packs.add(folder)
    assert str(caught.value).startswith("The lesson pack “Week 4” was not opened: ")
    assert "mine.toml, line 2: view: 'radio' is not one of chart" in str(caught.value)
    assert _installed(packs) == []


def test_two_lessons_with_one_id_and_an_empty_pack_are_refused(tmp_path):
    twice = write_pack(tmp_path / "twice", {"a.toml": lesson_text("ants"), "b.toml": lesson_text("ants")})
    with pytest.raises(LessonPackError, match=r"a\.toml and b\.toml are both the lesson 'ants'"):
        read_pack(twice)
    with pytest.raises(LessonPackError, match=r"“empty” was not opened: it holds no lesson files"):
        read_pack(write_pack(tmp_path / "empty", {"notes.txt": "no lessons yet"}))
    with pytest.raises(LessonPackError, match=r"there is no file or folder .*nowhere"):
        read_pack(tmp_path / "nowhere")
    with pytest.raises(LessonPackError, match=r"not a lesson file \(\.toml\), a folder of lesson files"):
        read_pack(write_pack(tmp_path, {"picture.png": "not a pack"}) / "picture.png")


@pytest.mark.parametrize("entry", ["../evil.toml", "week3/../../evil.toml", "/tmp/evil.toml", "C:/evil.toml"])
def test_a_zip_whose_entry_leaves_the_pack_is_refused(tmp_path, packs, entry):
    archive = write_zip(tmp_path / "week3.zip", {"a.toml": lesson_text("ants"), entry: lesson_text("evil")})
    assert zipfile.ZipFile(archive).namelist()[1] == entry  # the name is in the zip as it is
    with pytest.raises(LessonPackError, match="whose path leaves the pack's folder"):
        packs.add(archive)
    assert _installed(packs) == [] and not (tmp_path.parent / "evil.toml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["week3.zip"]


def test_a_zip_bomb_is_refused_without_being_unpacked(tmp_path):
    # An entry that unpacks to more than a lesson file may hold (a few kilobytes in the zip).
    bomb = write_zip(tmp_path / "bomb.zip", {"a.toml": lesson_text("ants"), "b.toml": b" " * (MAX_BYTES * 8)})
    assert bomb.stat().st_size < 64 * 1024
    with pytest.raises(LessonPackError, match=r"b\.toml is larger than 1,048,576 bytes"):
        read_pack(bomb)
    # The same entry declaring a small size: what it unpacks to is read with a limit, and found out.
    liar = tmp_path / "liar.zip"
    data = bytearray(write_zip(liar, {"b.toml": b" " * (MAX_BYTES * 8)}).read_bytes())
    local, central = data.index(b"PK\x03\x04"), data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, local + 22, 100)  # the local header's uncompressed size
    struct.pack_into("<I", data, central + 24, 100)  # the central directory's
    liar.write_bytes(bytes(data))
    assert zipfile.ZipFile(liar).infolist()[0].file_size == 100
    with pytest.raises(LessonPackError, match=r"b\.toml cannot be unpacked: the zip is damaged"):
        read_pack(liar)


def test_a_file_that_is_not_a_zip_and_a_damaged_zip_get_a_sentence(tmp_path):
    fake = tmp_path / "week3.zip"
    fake.write_text("these are my notes, not a zip", encoding="utf-8")
    with pytest.raises(LessonPackError, match=r"“week3\.zip” was not opened: week3\.zip is not a \.zip file"):
        read_pack(fake)
    good = write_zip(tmp_path / "cut.zip", {"a.toml": lesson_text("ants"), "b.toml": lesson_text("bees")})
    good.write_bytes(good.read_bytes()[:-40])  # the end of the central directory is gone
    with pytest.raises(LessonPackError, match=r"is not a \.zip file, or a damaged one"):
        read_pack(good)


def test_too_many_lessons_are_refused(tmp_path):
    entries = {f"{i:03d}.toml": lesson_text(f"l{i}") for i in range(201)}
    with pytest.raises(LessonPackError, match="more than 200 lesson files"):
        read_pack(write_zip(tmp_path / "many.zip", entries))


def test_opening_a_pack_again_replaces_it_and_says_so(tmp_path, packs):
    folder = write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants", "Ants")}, name="Week 3")
    first = packs.add(folder)
    assert (first.id, first.replaced, [x.id for x in first.lessons]) == ("week-3", False, ["ants"])
    assert first.folder == packs.root / "week-3" and (first.folder / "a.toml").is_file()
    write_pack(folder, {"a.toml": lesson_text("ants", "Ants, again"), "b.toml": lesson_text("bees")})
    second = packs.add(folder)
    assert second.replaced and [x.text("title", "en") for x in second.lessons] == ["Ants, again", "A lesson"]
    assert _installed(packs) == ["week-3"]  # no folder left over from the swap
    assert [p.id for p in packs.packs()] == ["week-3"]
    found = packs.find("week-3/bees")
    assert found is not None and found[1].id == "bees" and packs.find("week-3/nope") is None


def test_a_failed_install_keeps_the_pack_that_was_there(tmp_path, packs, monkeypatch):
    folder = write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants", "Ants")}, name="Week 3")
    packs.add(folder)
    write_pack(folder, {"a.toml": lesson_text("ants", "Ants, again"), "b.toml": lesson_text("bees")})
    real_write = lesson_packs._write

    def disk_full_at_the_second_file(path: Path, data: bytes) -> None:
        if path.name == "b.toml":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, data)

    monkeypatch.setattr(lesson_packs, "_write", disk_full_at_the_second_file)
    with pytest.raises(LessonPackError) as caught:
        packs.add(folder)
    assert "could not be saved" in str(caught.value) and "No space left on device" in str(caught.value)
    assert "the pack that was there is kept" in str(caught.value)
    kept = packs.get("week-3")
    assert [x.text("title", "en") for x in kept.lessons] == ["Ants"] and _installed(packs) == ["week-3"]


def test_remove_and_an_unknown_pack(tmp_path, packs):
    packs.add(write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants")}, name="Week 3"))
    removed = packs.remove("week-3")
    assert removed.name == "Week 3" and packs.packs() == [] and _installed(packs) == []
    with pytest.raises(
        LessonPackError, match="There is no lesson pack 'week-3'; no lesson pack is installed"
    ):
        packs.remove("week-3")
    with pytest.raises(LessonPackError, match=r"There is no lesson pack '\.\./x'"):
        packs.get("../x")


def test_a_pack_folder_broken_by_hand_is_listed_with_its_error(tmp_path, packs):
    good = packs.add(write_pack(tmp_path / "good", {"a.toml": lesson_text("ants")}, name="A good one"))
    broken = packs.add(write_pack(tmp_path / "bad", {"b.toml": lesson_text("bees")}, name="Broken"))
    (broken.folder / "b.toml").write_text(lesson_text("bees", view="radio"), encoding="utf-8")
    (packs.root / "Not A Pack").mkdir()
    listed = {p.id: p for p in packs.packs()}
    assert listed["a-good-one"].error is None and listed["a-good-one"].lessons == good.lessons
    assert listed["broken"].lessons == () and "b.toml, line 2: view: 'radio'" in (
        listed["broken"].error or ""
    )
    assert "its name is not a pack id" in (listed["Not A Pack"].error or "")
    assert [p.id for p in packs.packs()] == ["a-good-one", "broken", "Not A Pack"]  # by name


def test_add_lesson_saves_into_my_lessons(packs):
    pack, path = packs.add_lesson(lesson_text("colours", "Colours"))
    assert (pack.id, pack.name, path) == (MINE, "My lessons", packs.root / MINE / "colours.toml")
    assert path.read_text(encoding="utf-8") == lesson_text("colours", "Colours")
    with pytest.raises(LessonPackError, match="has a lesson 'colours' already"):
        packs.add_lesson(lesson_text("colours", "Colours, again"))
    pack, again = packs.add_lesson(lesson_text("colours", "Colours, again"), replace=True)
    assert again == path and [x.text("title", "en") for x in pack.lessons] == ["Colours, again"]
    pack, other = packs.add_lesson(lesson_text("shapes"))
    assert other.name == "shapes.toml" and [x.id for x in pack.lessons] == ["colours", "shapes"]
    with pytest.raises(LessonPackError, match=r"The lesson was not saved: the lesson, line 2: view: 'radio'"):
        packs.add_lesson(lesson_text("bad", view="radio"))
    assert sorted(p.name for p in (packs.root / MINE).iterdir()) == [
        "colours.toml",
        "pack.toml",
        "shapes.toml",
    ]


def test_add_lesson_replaces_a_lesson_kept_under_another_file_name(tmp_path, packs):
    packs.add(write_pack(tmp_path / "wk3", {"01-ants.toml": lesson_text("ants")}, name="Week 3"))
    pack, path = packs.add_lesson(lesson_text("ants", "Ants, new"), pack_id="week-3", replace=True)
    assert path.name == "01-ants.toml" and [x.text("title", "en") for x in pack.lessons] == ["Ants, new"]


def test_the_built_in_lessons_as_a_pack():
    pack = builtin_pack()
    assert pack.id == "builtin" and [x.id for x in pack.lessons] == [x.id for x in LESSONS]
    assert pack.title("zh_TW") != pack.name


def test_a_zip_with_lessons_in_two_folders_is_refused_and_a_pack_toml_beside_one_folder_names_it(tmp_path):
    two = write_zip(tmp_path / "two.zip", {"a/x.toml": lesson_text("ants"), "b/y.toml": lesson_text("bees")})
    with pytest.raises(
        LessonPackError, match=r"holds lesson files in more than one folder \(a, b\); keep one"
    ):
        read_pack(two)
    beside = write_zip(
        tmp_path / "beside.zip", {"pack.toml": 'name = "Week 6"\n', "w6/x.toml": lesson_text("ants")}
    )
    assert (read_pack(beside).name, [x.id for x in read_pack(beside).lessons]) == ("Week 6", ["ants"])
