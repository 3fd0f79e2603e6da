from __future__ import annotations

import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader, GGUFValueType

from desktop_app.core.models.gguf_header import ArrayInfo, GGUFError, read_header
from desktop_app.core.models.gguf_meta import read_metadata


def _reader_value(field):
    """A GGUFReader field as a plain Python value (what our reader keeps for short arrays)."""
    if field.types[0] == GGUFValueType.ARRAY:
        return [field.contents(i) for i in range(len(field.data))]
    return field.contents()


@pytest.fixture(params=["smollm2", "gemma"])
def model_path(request) -> Path:
    return request.getfixturevalue(f"{request.param}_path")


def test_header_matches_gguf_reader_field_by_field(model_path: Path):
    ours = read_header(model_path)
    ref = GGUFReader(model_path)
    ref_fields = {k: f for k, f in ref.fields.items() if not k.startswith("GGUF.")}
    assert set(ours.fields) == set(ref_fields)
    for key, field in ref_fields.items():
        value = ours.fields[key]
        if isinstance(value, ArrayInfo):
            assert value.length == len(field.data), key
            assert value.element_type == GGUFValueType(field.types[-1]).name, key
        elif isinstance(value, float):
            assert value == pytest.approx(float(_reader_value(field)), rel=1e-6), key
        else:
            assert value == _reader_value(field), key
    assert len(ours.tensors) == len(ref.tensors)
    for t, r in zip(ours.tensors, ref.tensors, strict=True):
        assert t.name == r.name
        assert t.shape == tuple(int(x) for x in r.shape)
        assert t.ggml_type == int(r.tensor_type)
        assert t.n_elements == int(r.n_elements)
        assert t.n_bytes == int(r.n_bytes)
        assert ours.data_offset + t.offset == int(r.data_offset)


def test_smollm2_metadata(smollm2_path: Path):
    m = read_metadata(smollm2_path)
    assert m.architecture == "llama"
    assert m.block_count == 30
    assert m.context_length == 8192
    assert m.vocab_size == 49152
    assert m.quantization == "Q4_1"
    assert m.has_chat_template
    assert m.file_size == smollm2_path.stat().st_size
    ref = GGUFReader(smollm2_path)
    assert m.parameter_count == sum(int(np.prod(t.shape)) for t in ref.tensors)
    assert 130e6 < m.parameter_count < 140e6


def test_gemma_metadata(gemma_path: Path):
    m = read_metadata(gemma_path)
    assert m.architecture == "gemma3"
    assert m.vocab_size == 262144
    assert m.quantization == "Q4_K_M"
    assert not m.has_chat_template
    assert m.sliding_window and m.sliding_window > 0
    assert m.block_count == 18
    assert 250e6 < m.parameter_count < 300e6


def test_text_file_renamed_gguf_is_rejected_with_a_reason(tmp_path: Path):
    fake = tmp_path / "notes.gguf"
    fake.write_text("these are my lecture notes, not a model\n" * 10)
    with pytest.raises(GGUFError, match="not a GGUF model file"):
        read_metadata(fake)


def test_tiny_and_empty_files(tmp_path: Path):
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"")
    with pytest.raises(GGUFError, match="not a GGUF"):
        read_metadata(empty)
    stub = tmp_path / "stub.gguf"
    stub.write_bytes(b"GGUF\x03\x00")
    with pytest.raises(GGUFError, match="truncated"):
        read_metadata(stub)


@pytest.mark.parametrize("keep", [30, 4000, 500_000, 5_000_000])  # 500 kB: inside the vocabulary
def test_truncated_file_is_rejected(smollm2_path: Path, tmp_path: Path, keep: int):
    cut = tmp_path / "cut.gguf"
    with smollm2_path.open("rb") as src:
        cut.write_bytes(src.read(keep))
    with pytest.raises(GGUFError, match="truncated") as caught:
        read_metadata(cut)
    assert "cut.gguf" in str(caught.value)  # the file is named, wherever in the header it ends


def test_unsupported_version(tmp_path: Path):
    bad = tmp_path / "v9.gguf"
    bad.write_bytes(b"GGUF" + struct.pack("<IQQ", 9, 0, 0) + b"\0" * 16)
    with pytest.raises(GGUFError, match="version 9"):
        read_metadata(bad)


def test_missing_file_and_folder(tmp_path: Path):
    with pytest.raises(GGUFError, match="does not exist"):
        read_metadata(tmp_path / "nope.gguf")
    with pytest.raises(GGUFError, match="folder"):
        read_metadata(tmp_path)


def test_copy_reads_the_same(smollm2_path: Path, tmp_path: Path):
    copy = tmp_path / "copy.gguf"
    shutil.copyfile(smollm2_path, copy)
    assert read_metadata(copy) == read_metadata(smollm2_path)


def test_the_header_value_types_are_the_gguf_packages():
    import gguf

    from desktop_app.core.models.gguf_header import GGUFValueType

    assert [(t.name, t.value) for t in GGUFValueType] == [(t.name, t.value) for t in gguf.GGUFValueType]
