"""Classroom kits: exported on one TokenDice home with the real SmolLM2 file, checked byte for byte and
installed into a fresh home; a damaged, unfinished or tampered kit is refused with a sentence and nothing
of it is installed; importing twice is harmless; a different file already in place is never overwritten."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from desktop_app.core.kit import (
    MANIFEST,
    KitCancelled,
    KitError,
    KitManifest,
    export_kit,
    import_kit,
    missing_recommendations,
    verify_kit,
)
from desktop_app.core.kit_files import UNFINISHED
from desktop_app.core.lesson_packs import LessonPacks, read_pack
from desktop_app.core.services import Services
from desktop_app.paths import AppPaths
from tests.helpers import fake_gguf, sha256_file
from tests.pack_helpers import lesson_text, write_pack

MODEL_PATH = "models/local/SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class Exported:
    kit: Path  # a kit with the pack and the model
    lessons_kit: Path  # a kit with the pack only
    manifest: KitManifest
    sha256: str  # the model file's, computed from the original


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, smollm2_path: Path) -> Exported:
    """A teacher's home with a lesson pack, and its kits (the 98 MB model is exported once a module)."""
    root = tmp_path_factory.mktemp("teacher")
    services = Services.open(AppPaths.from_env({"TOKENDICE_HOME": str(root / "home")}))
    try:
        packs = LessonPacks(services.paths.lessons_dir)
        lessons = {"a.toml": lesson_text("ants", "Ants"), "b.toml": lesson_text("bees", "Bees", thinks=True)}
        pack = packs.add(write_pack(root / "wk3", lessons, name="Week 3"))
        model = services.library.resolve("default")
        manifest = export_kit(root / "kit", [pack], [model])
        export_kit(root / "lessons-kit", [pack], [])
    finally:
        services.close()
    return Exported(root / "kit", root / "lessons-kit", manifest, sha256_file(smollm2_path))


@pytest.fixture
def student() -> Iterator[Services]:
    """A fresh TokenDice home (the test's own TOKENDICE_HOME), as a classroom machine has it."""
    services = Services.open()
    yield services
    services.close()


def _import(services: Services, kit: Path):
    packs = LessonPacks(services.paths.lessons_dir)
    return import_kit(services.library, kit, models_dir=services.paths.models_dir, packs=packs)


def _nothing_installed(services: Services) -> None:
    assert [p for p in services.paths.models_dir.rglob("*") if p.is_file()] == []
    lessons = services.paths.lessons_dir
    assert not lessons.exists() or list(lessons.iterdir()) == []
    assert [e.source for e in services.library.entries()] == ["bundled"]


def _copy(kit: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(kit, tmp_path / "usb" / "kit"))


def _edit_manifest(kit: Path, edit) -> None:
    doc = json.loads((kit / MANIFEST).read_text(encoding="utf-8"))
    edit(doc)
    (kit / MANIFEST).write_text(json.dumps(doc), encoding="utf-8")


def test_the_manifest_names_every_file_with_its_hash(exported):
    doc = json.loads((exported.kit / MANIFEST).read_text(encoding="utf-8"))
    assert (doc["format"], doc["version"]) == ("tokendice-kit", 1) and doc["created"].endswith("Z")
    (pack,) = doc["packs"]
    assert (pack["id"], pack["name"], pack["names"]["zh_TW"]) == ("week-3", "Week 3", "第三週")
    assert [f["path"] for f in pack["files"]] == [
        "lessons/week-3/a.toml",
        "lessons/week-3/b.toml",
        "lessons/week-3/pack.toml",
    ]
    (model,) = doc["models"]
    assert (model["repo_id"], model["filename"]) == (None, "SmolLM2-135M-Instruct.Q4_1.gguf")
    assert model["files"] == [
        {"path": MODEL_PATH, "size": (exported.kit / MODEL_PATH).stat().st_size, "sha256": exported.sha256}
    ]
    assert not (exported.kit / UNFINISHED).exists()


def test_a_kit_imported_into_a_fresh_home(exported, student):
    result = _import(student, exported.kit)
    (entry,) = result.models
    assert entry.source == "imported" and entry.usable, entry.error
    assert entry.path == student.paths.models_dir / "local" / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert sha256_file(entry.path) == exported.sha256
    assert student.library.get(entry.id).path == entry.path
    assert result.plan.models[0].copied
    (pack,) = LessonPacks(student.paths.lessons_dir).packs()
    assert (pack.id, pack.title("zh_TW"), [x.id for x in pack.lessons]) == (
        "week-3",
        "第三週",
        ["ants", "bees"],
    )


def test_importing_the_same_kit_again_is_harmless(exported, student):
    first = _import(student, exported.kit)
    again = _import(student, exported.kit)
    assert [e.id for e in again.models] == [e.id for e in first.models]
    assert not again.plan.models[0].copied and again.packs[0].replaced
    assert sorted(p.name for p in (student.paths.models_dir / "local").iterdir()) == [
        "SmolLM2-135M-Instruct.Q4_1.gguf"
    ]
    assert len(student.library.entries()) == 2  # the bundled model and the kit's


def test_a_different_file_in_the_way_is_never_overwritten(exported, student, tmp_path):
    local = student.paths.models_dir / "local"
    local.mkdir(parents=True)
    mine = local / "SmolLM2-135M-Instruct.Q4_1.gguf"
    mine.write_bytes(fake_gguf("the student's own file"))
    result = _import(student, exported.kit)
    assert mine.read_bytes() == fake_gguf("the student's own file")
    assert result.models[0].path == local / "SmolLM2-135M-Instruct.Q4_1-2.gguf"
    assert sha256_file(result.models[0].path) == exported.sha256


def test_one_changed_byte_in_the_model_refuses_the_kit_and_installs_nothing(exported, student, tmp_path):
    kit = _copy(exported.kit, tmp_path)
    with (kit / MODEL_PATH).open("r+b") as f:
        f.seek(50_000_000)
        byte = f.read(1)
        f.seek(50_000_000)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(KitError) as caught:
        _import(student, kit)
    assert str(caught.value) == (
        f"The kit in {kit} is damaged: {MODEL_PATH} is not the file the teacher exported (its SHA-256 "
        "differs); nothing was installed. Copy the kit again."
    )
    _nothing_installed(student)


def test_an_unfinished_kit_and_a_missing_file(exported, student, tmp_path):
    kit = _copy(exported.lessons_kit, tmp_path)
    (kit / "lessons" / "week-3" / "b.toml").unlink()
    with pytest.raises(KitError, match=r"is incomplete: lessons/week-3/b\.toml is missing; nothing was"):
        _import(student, kit)
    (kit / MANIFEST).unlink()
    with pytest.raises(KitError, match=r"is an unfinished copy: it has no tokendice-kit\.json"):
        _import(student, kit)
    with pytest.raises(KitError, match=r"is not a classroom kit: it has no tokendice-kit\.json"):
        _import(student, tmp_path)
    _nothing_installed(student)


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("lessons/week-3/../../../evil.toml", "leaves the kit"),
        ("/etc/passwd", "is not a relative path inside the kit"),
        ("models/x.gguf", "is not under lessons/week-3/"),
    ],
)
def test_a_manifest_whose_path_leaves_the_kit_is_refused(exported, student, tmp_path, path, problem):
    kit = _copy(exported.lessons_kit, tmp_path)
    (tmp_path / "evil.toml").write_text(lesson_text("evil"), encoding="utf-8")

    def edit(doc):
        doc["packs"][0]["files"][0]["path"] = path

    _edit_manifest(kit, edit)
    with pytest.raises(KitError) as caught:
        _import(student, kit)
    assert (
        f"The kit in {kit} cannot be used: its tokendice-kit.json is damaged: packs[0].files[0].path"
        in str(caught.value)
    )
    assert problem in str(caught.value) and str(caught.value).endswith("Copy the kit again.")
    _nothing_installed(student)


def test_a_file_reached_through_a_symbolic_link_is_refused(exported, student, tmp_path):
    kit = _copy(exported.lessons_kit, tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (kit / "lessons" / "week-3").rename(elsewhere)
    (kit / "lessons" / "week-3").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(KitError, match=r"lessons/week-3/a\.toml is reached through a symbolic link"):
        _import(student, kit)
    _nothing_installed(student)


@pytest.mark.parametrize(
    ("edit", "sentence"),
    [
        (lambda d: d.update(format="zip"), "its format is 'zip', not 'tokendice-kit'"),
        (lambda d: d.update(version=9), "it is kit version 9, made by a newer TokenDice"),
        (lambda d: d["packs"][0]["files"][0].update(size="big"), "files[0].size must be a whole number"),
        (lambda d: d["packs"][0].update(files={}), "packs[0].files must be a list"),
        (lambda d: d["packs"][0]["files"].append(d["packs"][0]["files"][0]), "names the file lessons/"),
        (lambda d: d["packs"][0].update(id="Week 3"), "packs[0].id 'Week 3' is not a pack id"),
    ],
)
def test_a_manifest_with_wrong_fields_is_refused(exported, student, tmp_path, edit, sentence):
    kit = _copy(exported.lessons_kit, tmp_path)
    _edit_manifest(kit, edit)
    with pytest.raises(
        KitError, match=f"The kit in {re.escape(str(kit))} cannot be used: .*{re.escape(sentence)}"
    ):
        _import(student, kit)
    (kit / MANIFEST).write_text("{not json", encoding="utf-8")
    with pytest.raises(KitError, match=r"its tokendice-kit\.json is not JSON"):
        _import(student, kit)
    _nothing_installed(student)


def test_a_kit_lesson_that_is_not_a_lesson_is_refused_even_with_its_hash(exported, student, tmp_path):
    kit = _copy(exported.lessons_kit, tmp_path)
    bad = kit / "lessons" / "week-3" / "a.toml"
    bad.write_text(lesson_text("ants", view="radio"), encoding="utf-8")

    def edit(doc):
        doc["packs"][0]["files"][0].update(size=bad.stat().st_size, sha256=sha256_file(bad))

    _edit_manifest(kit, edit)
    with pytest.raises(
        KitError, match=r"“Week 3” is not one TokenDice can open: a\.toml, line 2: view: 'radio'"
    ):
        _import(student, kit)
    _nothing_installed(student)


def test_export_refuses_a_folder_that_holds_other_files(exported, tmp_path):
    pack = read_pack(exported.lessons_kit / "lessons" / "week-3")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.docx").write_text("not a kit", encoding="utf-8")
    with pytest.raises(KitError, match=r"holds other files \(thesis\.docx\); choose an empty folder"):
        export_kit(busy, [pack], [])
    assert sorted(p.name for p in busy.iterdir()) == ["thesis.docx"]
    # An earlier kit is replaced; a stick's hidden folders do not count.
    earlier = _copy(exported.kit, tmp_path)
    (earlier / ".Trashes").mkdir()
    manifest = export_kit(earlier, [pack], [])
    assert manifest.models == () and not (earlier / "models").exists()
    assert verify_kit(earlier).manifest == manifest


def test_a_cancelled_export_leaves_an_unfinished_kit(exported, tmp_path):
    pack = read_pack(exported.lessons_kit / "lessons" / "week-3")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(KitCancelled):
        export_kit(tmp_path / "kit", [pack], [], cancel=cancel)
    assert (tmp_path / "kit" / UNFINISHED).exists() and not (tmp_path / "kit" / MANIFEST).exists()
    with pytest.raises(KitError, match="is an unfinished copy"):
        verify_kit(tmp_path / "kit")


def test_a_split_model_from_the_hub_carries_all_its_parts(student, tmp_path):
    teacher = Services.open(AppPaths.from_env({"TOKENDICE_HOME": str(tmp_path / "teacher")}))
    try:
        teacher.library.check_loadable = False
        folder = teacher.paths.models_dir / "someone" / "tiny"
        folder.mkdir(parents=True)
        parts = [folder / f"tiny-0000{i}-of-00002.gguf" for i in (1, 2)]
        for i, part in enumerate(parts):
            part.write_bytes(fake_gguf(f"part {i}", 8192, noise=True))
        entry = teacher.library.register_download(
            parts[0], repo_id="someone/tiny", filename="tiny-00001-of-00002.gguf"
        )
        progress: list[tuple[int, int, str]] = []
        manifest = export_kit(tmp_path / "kit", [], [entry], progress=lambda *p: progress.append(p))
    finally:
        teacher.close()
    assert [f.path for f in manifest.models[0].files] == [
        "models/someone/tiny/tiny-00001-of-00002.gguf",
        "models/someone/tiny/tiny-00002-of-00002.gguf",
    ]
    assert progress[-1][:2] == (16384, 16384) and progress[-1][2].startswith("copying models/someone/tiny/")
    student.library.check_loadable = False
    (installed,) = _import(student, tmp_path / "kit").models
    assert (installed.source, installed.repo_id, installed.filename) == (
        "downloaded",
        "someone/tiny",
        "tiny-00001-of-00002.gguf",
    )
    target = student.paths.models_dir / "someone" / "tiny"
    assert [sha256_file(target / p.name) for p in parts] == [sha256_file(p) for p in parts]


def test_lessons_whose_recommended_model_is_not_in_the_kit(exported):
    pack = read_pack(exported.lessons_kit / "lessons" / "week-3")
    carried = [(m.repo_id, m.filename) for m in exported.manifest.models]
    assert [(ref, m.filename) for ref, m in missing_recommendations([pack], carried)] == [
        ("week-3/bees", "Qwen3-0.6B-Q8_0.gguf")
    ]
    with_it = [*carried, ("Qwen/Qwen3-0.6B-GGUF", "Qwen3-0.6B-Q8_0.gguf")]
    assert missing_recommendations([pack], with_it) == []


@pytest.mark.parametrize("fails", ["writing", "placing"])
def test_a_pack_that_cannot_be_saved_leaves_every_pack_as_it_was(tmp_path, student, monkeypatch, fails):
    """A kit of two packs whose second cannot be saved (a full disk while it is written, or a folder
    that cannot be moved in place): the first is not installed either, and the older pack the first
    would have replaced is still there, whole."""
    from desktop_app.core import lesson_packs

    teacher = LessonPacks(tmp_path / "teacher")
    wk3 = teacher.add(write_pack(tmp_path / "wk3", {"a.toml": lesson_text("ants", "Ants")}, name="Week 3"))
    wk4 = teacher.add(write_pack(tmp_path / "wk4", {"c.toml": lesson_text("cats", "Cats")}, name="Week 4"))
    export_kit(tmp_path / "kit", [wk3, wk4], [])
    packs = LessonPacks(student.paths.lessons_dir)
    older = packs.add(write_pack(tmp_path / "old", {"o.toml": lesson_text("owls", "Owls")}, name="Week 3"))
    assert older.id == wk3.id
    before = {p.relative_to(packs.root): p.read_bytes() for p in packs.root.rglob("*") if p.is_file()}

    if fails == "writing":
        write = lesson_packs._write

        def full_disk(path: Path, data: bytes) -> None:
            if path.parent.name.startswith(f".{wk4.id}.new-"):
                raise OSError(28, "No space left on device")
            write(path, data)

        monkeypatch.setattr(lesson_packs, "_write", full_disk)
    else:
        swap = lesson_packs._swap

        def stuck(new: Path, target: Path, old: Path) -> bool:
            if target.name == wk4.id:
                raise OSError(13, "Permission denied")
            return swap(new, target, old)

        monkeypatch.setattr(lesson_packs, "_swap", stuck)

    with pytest.raises(KitError, match="Week 4") as caught:
        _import(student, tmp_path / "kit")
    assert "the pack that was there is kept" in str(caught.value)
    after = {p.relative_to(packs.root): p.read_bytes() for p in packs.root.rglob("*") if p.is_file()}
    assert after == before  # the older Week 3 whole, no Week 4, nothing half-written left
    assert [(p.id, [x.id for x in p.lessons]) for p in packs.packs()] == [(wk3.id, ["owls"])]
