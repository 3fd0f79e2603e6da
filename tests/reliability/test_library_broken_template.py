"""A library entry that cannot load: the real SmolLM2 GGUF with a chat template that has a Jinja syntax error.

llama-cpp-python compiles every chat template of a GGUF while it loads the model (even a vocabulary-only
load), so such a file cannot be used. It is listed with the reason and marked unusable; it never stops
the library from listing, the window from starting, or another model from loading; and each command
that meets it says so in one line, never a traceback.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import gguf
import pytest

from tests.helpers import run_cli

BROKEN_TEMPLATE = "{% for message in messages %}{{ message['content'] }{% endfor %}"
# What the user reads, in every place the file is met (the CLI's line, the library's entry, the window).
REASON = (
    "its own chat template (tokenizer.chat_template) has an error on line 1: unexpected '}'; llama.cpp's "
    "Python bindings refuse to load a model whose template does not compile, so it cannot be used: "
    "get a corrected copy of the file from its publisher"
)


def with_chat_template(source: Path, target: Path, template: str) -> Path:
    """A copy of the GGUF ``source`` (every key and tensor as they are) whose ``tokenizer.chat_template``
    is ``template``, written with the ``gguf`` package."""
    reader = gguf.GGUFReader(source, "r")
    arch = reader.get_field(gguf.Keys.General.ARCHITECTURE).contents()
    writer = gguf.GGUFWriter(str(target), arch, endianess=reader.endianess)
    replaced = False
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue  # the writer adds these itself
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        value = field.contents()
        if field.name == gguf.Keys.Tokenizer.CHAT_TEMPLATE:
            value, replaced = template, True
        writer.add_key_value(field.name, value, kind, sub_type=sub)
    assert replaced, "the source GGUF has no chat template to replace"
    for tensor in reader.tensors:
        writer.add_tensor_info(
            tensor.name, tensor.data.shape, tensor.data.dtype, tensor.data.nbytes, tensor.tensor_type
        )
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data, tensor_endianess=reader.endianess)
    writer.close()
    return target


@pytest.fixture(scope="module")
def broken_gguf(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2-135M-Instruct (98 MB, written once for this module) with :data:`BROKEN_TEMPLATE`."""
    target = tmp_path_factory.mktemp("broken-template") / "smollm2-broken-template.gguf"
    return with_chat_template(smollm2_path, target, BROKEN_TEMPLATE)


def assert_one_line(stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines == [f"tokendice: error: {expected}"], stderr


def imported(broken_gguf: Path) -> dict:
    done = run_cli(["models", "import", "--reference", "--json", str(broken_gguf)])
    assert done.returncode == 1
    assert_one_line(done.stderr, REASON)
    return json.loads(done.stdout)


def test_the_probe_names_the_broken_template_as_the_files_problem(broken_gguf: Path):
    from desktop_app.core.models.loadability import load_problem

    assert load_problem(broken_gguf) == REASON  # an answer about the file, kept: not "no answer"


def test_import_by_reference_says_why_in_one_line_and_lists_it_unusable(broken_gguf: Path):
    entry = imported(broken_gguf)
    assert entry["status"] == "invalid" and entry["error"] == REASON
    assert entry["metadata"]["has_chat_template"] and entry["metadata"]["architecture"] == "llama"


def test_models_list_shows_it_with_the_reason_every_time(broken_gguf: Path, tokendice_home: Path):
    entry = imported(broken_gguf)
    for _ in range(2):  # the second listing reads the reason from the cache: no probe, same answer
        listed = run_cli(["models", "list"])
        assert listed.returncode == 0 and listed.stderr == ""
        assert f"{entry['id']}\n" in listed.stdout
        assert f"status:        invalid: {REASON}" in listed.stdout
        assert "bundled/SmolLM2-135M-Instruct-Q4_1 (default)" in listed.stdout
    models = json.loads(run_cli(["models", "list", "--json"]).stdout)["models"]
    by_id = {m["id"]: m for m in models}
    assert by_id[entry["id"]]["status"] == "invalid" and by_id[entry["id"]]["error"] == REASON
    assert by_id["bundled/SmolLM2-135M-Instruct-Q4_1"]["status"] == "ok"
    db = sqlite3.connect(tokendice_home / "data" / "tokendice.sqlite3")
    try:
        cached = db.execute("SELECT error FROM gguf_cache WHERE path = ?", (str(broken_gguf),)).fetchall()
    finally:
        db.close()
    assert cached == [(REASON,)]  # the answer is the file's: kept, not asked again at each listing


@pytest.mark.parametrize(
    "command",
    [
        ["tokens", "hello"],
        ["template", "hi"],
        ["probs", "hi"],
        ["models", "info"],
    ],
    ids=["tokens", "template", "probs", "models-info"],
)
@pytest.mark.parametrize("named_by", ["path", "library-id"])
def test_commands_that_meet_it_say_why_in_one_line(broken_gguf: Path, command: list[str], named_by: str):
    model = str(broken_gguf)
    if named_by == "library-id":
        model = imported(broken_gguf)["id"]
    args = [*command, model] if command[0] == "models" else [command[0], "--model", model, *command[1:]]
    done = run_cli(args)
    assert done.returncode == 1
    assert_one_line(done.stderr, REASON)


@pytest.mark.parametrize("command", [["tokens", "hello"], ["models", "list"]], ids=["tokens", "models-list"])
def test_an_entry_cached_as_usable_without_llama_cpps_answer_is_asked_again(
    broken_gguf: Path, command: list[str]
):
    """An entry an older TokenDice cached as usable without asking llama.cpp (there was no check then)."""
    from desktop_app.core.models.importing import import_file
    from desktop_app.core.services import Services

    services = Services.open()
    try:
        services.library.check_loadable = False
        entry = import_file(services.library, broken_gguf, copy=False, models_dir=services.paths.models_dir)
        assert entry.usable  # what the old cache says
    finally:
        services.close()
    if command[0] == "models":
        done = run_cli(command)
        assert done.returncode == 0 and "Traceback" not in done.stderr
        assert f"status:        invalid: {REASON}" in done.stdout
    else:
        done = run_cli([command[0], "--model", entry.id, *command[1:]])
        assert done.returncode == 1
        assert_one_line(done.stderr, REASON)


def test_another_model_still_loads_beside_it(broken_gguf: Path):
    imported(broken_gguf)
    done = run_cli(["tokens", "--model", "default", "--json", "hello world"])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["n_tokens"] == 2


def test_a_cache_row_that_cannot_be_read_does_not_stop_the_listing(tokendice_home: Path):
    from desktop_app.core.services import Services

    services = Services.open()
    try:
        (bundled,) = services.library.entries()
        with services.db.transaction() as c:  # a row another version wrote, or a damaged one
            c.execute('UPDATE gguf_cache SET metadata = \'{"not": "metadata"\'')
        (again,) = services.library.entries()
        assert again.usable and again.metadata == bundled.metadata  # read from the file again
    finally:
        services.close()


LOAD_MS = 60_000


def test_window_starts_lists_it_as_unusable_and_still_loads_the_default(broken_gguf: Path, qtbot):
    from PySide6.QtCore import Qt

    from desktop_app.core.models.importing import import_file
    from desktop_app.core.services import Services
    from desktop_app.ui.main_window import MainWindow

    services = Services.open()
    entry = import_file(services.library, broken_gguf, copy=False, models_dir=services.paths.models_dir)
    assert not entry.usable and entry.error == REASON
    window = MainWindow(services, current=services.library.resolve("default"))
    qtbot.addWidget(window)
    try:
        with qtbot.waitSignal(window.model_loaded, timeout=LOAD_MS):
            window.show()
        items = window.models.list
        rows = {items.topLevelItem(i).data(0, Qt.UserRole): items.topLevelItem(i) for i in range(2)}
        assert set(rows) == {entry.id, "bundled/SmolLM2-135M-Instruct-Q4_1"}
        last = items.columnCount() - 1
        assert rows[entry.id].text(last) == f"invalid: {REASON}"
        assert rows[entry.id].toolTip(last) == REASON
        # Asked to load it, the window says why it cannot, and keeps the model it has.
        window._on_load_requested(entry.id, 2048, 0)
        assert window.models.message.text() == f"{entry.display_name} cannot be loaded: {REASON}"
        assert window.loaded is not None and window.loaded.model_id == "bundled/SmolLM2-135M-Instruct-Q4_1"
    finally:
        window.close()
        services.close()
