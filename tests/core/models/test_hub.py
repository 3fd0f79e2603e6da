"""Hub search and file listing: file-name parsing, the curated list, offline refusal, and the loopback hub."""

from __future__ import annotations

import hashlib
import socket
import struct
from datetime import datetime
from pathlib import Path

import pytest
from huggingface_hub import constants as hf_constants

from desktop_app.core.engine.fit import requirements_rough
from desktop_app.core.models.curated import CURATED
from desktop_app.core.models.hub import (
    FilePart,
    Hub,
    HubError,
    group_gguf_files,
    is_projector,
    parse_quantization,
)
from tests.hubserver import VALID_TOKEN, HubServer, hub  # noqa: F401  (hub is a fixture)

# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-0.5b-instruct-q4_k_m.gguf", "Q4_K_M"),
        ("llama-2-7b-chat.Q4_K_M.gguf", "Q4_K_M"),  # TheBloke: a dot before the quantization
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("smollm2-360m-instruct-q8_0.gguf", "Q8_0"),
        ("gemma-3-1b-it-Q4_K_M.gguf", "Q4_K_M"),
        ("Llama-3.2-1B-Instruct-f16.gguf", "F16"),
        ("Qwen3-0.6B-BF16.gguf", "BF16"),
        ("Phi-3-mini-4k-instruct-fp16.gguf", "F16"),
        ("Phi-3-mini-4k-instruct-q4.gguf", "Q4"),
        ("ggml-model-f32.gguf", "F32"),
        ("Llama-3.2-1B-Instruct-Q4_0_4_4.gguf", "Q4_0_4_4"),
        ("Llama-3.2-1B-Instruct-Q4_0_8_8.gguf", "Q4_0_8_8"),
        ("Meta-Llama-3.1-8B-Instruct-IQ2_XXS.gguf", "IQ2_XXS"),
        ("Meta-Llama-3.1-8B-Instruct-IQ2_XS.gguf", "IQ2_XS"),
        ("Meta-Llama-3.1-8B-Instruct-IQ3_M.gguf", "IQ3_M"),
        ("Meta-Llama-3.1-8B-Instruct-IQ4_NL.gguf", "IQ4_NL"),
        ("Meta-Llama-3.1-8B-Instruct-IQ1_S.gguf", "IQ1_S"),
        ("Meta-Llama-3.1-8B-Instruct-Q6_K_L.gguf", "Q6_K_L"),
        ("Meta-Llama-3.1-8B-Instruct-Q3_K_XL.gguf", "Q3_K_XL"),
        ("Meta-Llama-3.1-8B-Instruct-Q2_K.gguf", "Q2_K"),
        ("Meta-Llama-3.1-8B-Instruct-Q5_K_S.gguf", "Q5_K_S"),
        ("mistral-7b-instruct-v0.2.Q5_0.gguf", "Q5_0"),
        ("Qwen3-30B-A3B-UD-Q4_K_XL.gguf", "UD-Q4_K_XL"),
        ("DeepSeek-R1-0528-UD-IQ1_S.gguf", "UD-IQ1_S"),
        ("gpt-oss-20b-MXFP4.gguf", "MXFP4"),
        ("BitNet-b1.58-2B-4T-TQ1_0.gguf", "TQ1_0"),
        ("model-q4km.gguf", "Q4_K_M"),  # no separators at all
        ("model-Q4-K-M.gguf", "Q4_K_M"),  # dashes instead of underscores
        ("MODEL.IQ4_xs.GGUF", "IQ4_XS"),  # case does not matter
        ("Qwen2.5-Coder-7B-Instruct-Q4_K_M-imat.gguf", "Q4_K_M"),
        ("Qwen2.5-72B-Instruct-Q8_0-00001-of-00002.gguf", "Q8_0"),
        ("Q5_K_M/Qwen2.5-72B-Instruct-Q5_K_M-00002-of-00003.gguf", "Q5_K_M"),
        ("UD-Q2_K_XL/DeepSeek-R1-00001-of-00005.gguf", "UD-Q2_K_XL"),  # only the folder says
        ("Mistral-7B-Instruct-v0.3.gguf", None),
        ("model.gguf", None),
        ("qwen2.5-7b-instruct-00001-of-00002.gguf", None),
    ],
)
def test_parse_quantization(name: str, quant: str | None):
    assert parse_quantization(name) == quant


@pytest.mark.parametrize(
    ("name", "projector"),
    [
        ("mmproj-model-f16.gguf", True),
        ("mmproj-google_gemma-3-4b-it-f16.gguf", True),
        ("Qwen2.5-VL-7B-Instruct-mmproj-f16.gguf", True),
        ("llava-v1.6-mistral-7b-mmproj-Q8_0.gguf", True),
        ("MMPROJ-F32.gguf", True),
        ("minicpm-v/mm-proj-f16.gguf", True),
        ("gemma-3-4b-it-Q4_K_M.gguf", False),
        ("mmproj/model-Q4_K_M.gguf", False),  # only the file's own name counts
    ],
)
def test_is_projector(name: str, projector: bool):
    assert is_projector(name) is projector


def _rows(*names: str, size: int = 100):
    return [(n, size, hashlib.sha256(n.encode()).hexdigest()) for n in names]


def test_split_models_are_one_entry_with_all_parts():
    rows = _rows(
        "Q8_0/Model-Q8_0-00003-of-00003.gguf",
        "Q8_0/Model-Q8_0-00001-of-00003.gguf",
        "Q8_0/Model-Q8_0-00002-of-00003.gguf",
        "Model-Q4_K_M.gguf",
        "README.md",
        "imatrix.dat",
    )
    files = group_gguf_files(rows)
    assert [f.name for f in files] == ["Model-Q4_K_M.gguf", "Q8_0/Model-Q8_0-00001-of-00003.gguf"]
    split = files[1]
    assert split.is_split and split.complete and split.loadable
    assert split.split_total == 3 and split.size == 300 and split.quantization == "Q8_0"
    assert [p.path.rsplit("-", 3)[1] for p in split.parts] == ["00001", "00002", "00003"]
    assert split.sha256 == hashlib.sha256(b"Q8_0/Model-Q8_0-00001-of-00003.gguf").hexdigest()
    assert split.filename == "Model-Q8_0-00001-of-00003.gguf"
    single = files[0]
    assert not single.is_split and single.parts == (FilePart("Model-Q4_K_M.gguf", 100, single.sha256),)


def test_split_groups_are_kept_apart_by_folder_stem_and_count():
    rows = _rows(
        "a/M-F16-00001-of-00002.gguf",
        "a/M-F16-00002-of-00002.gguf",
        "b/M-F16-00001-of-00002.gguf",
        "b/M-F16-00002-of-00002.gguf",
        "M-BF16-00001-of-00002.gguf",  # part 2 is missing
    )
    files = group_gguf_files(rows)
    assert sorted(f.name for f in files) == [
        "M-BF16-00001-of-00002.gguf",
        "a/M-F16-00001-of-00002.gguf",
        "b/M-F16-00001-of-00002.gguf",
    ]
    broken = next(f for f in files if f.quantization == "BF16")
    assert not broken.complete and not broken.loadable and len(broken.parts) == 1


def test_projectors_and_unknown_sizes_sort_after_models():
    rows = [
        ("mmproj-f16.gguf", 50, None),
        ("model-Q8_0.gguf", 300, "a" * 64),
        ("model-Q4_K_M.gguf", 200, "b" * 64),
        ("model-Q2_K.gguf", None, None),
        ("imatrix.gguf", 10, None),
    ]
    files = group_gguf_files(rows)
    assert [(f.name, f.kind) for f in files] == [
        ("model-Q4_K_M.gguf", "model"),
        ("model-Q8_0.gguf", "model"),
        ("model-Q2_K.gguf", "model"),
        ("mmproj-f16.gguf", "mmproj"),
        ("imatrix.gguf", "imatrix"),
    ]
    assert not files[3].loadable and files[2].size is None
    # A split whose part sizes are unknown has no total either.
    parts = group_gguf_files([("x-00001-of-00002.gguf", 5, None), ("x-00002-of-00002.gguf", None, None)])
    assert parts[0].size is None and parts[0].complete


# --------------------------------------------------------------------------- the curated list


def test_curated_list_is_well_formed():
    assert 6 <= len(CURATED) <= 12  # a short list: the teaching models and three thinking ones
    assert len({c.repo_id for c in CURATED}) == len(CURATED)
    sizes = [c.size_bytes for c in CURATED]
    assert sizes == sorted(sizes), "smallest first"
    for c in CURATED:
        owner, name = c.repo_id.split("/")
        assert owner in ("bartowski", "ggml-org", "Qwen", "HuggingFaceTB") and name.endswith("-GGUF")
        assert c.filename.endswith(".gguf") and "/" not in c.filename
        assert parse_quantization(c.filename) is not None and not is_projector(c.filename)
        assert 200_000_000 < c.size_bytes < 3_000_000_000
        assert c.licence and c.parameters
        assert c.reason.endswith(".") and "\n" not in c.reason and len(c.reason) < 110


# --------------------------------------------------------------------------- offline, without a network


def test_offline_refuses_without_touching_the_network(monkeypatch: pytest.MonkeyPatch):
    def no_network(*args, **kwargs):
        raise AssertionError("an offline hub must not send requests")

    import huggingface_hub
    import huggingface_hub.hf_api  # imported now: imported under the patch, it would keep no_network
    import huggingface_hub.utils

    monkeypatch.setattr(huggingface_hub.utils, "get_session", no_network)
    monkeypatch.setattr(huggingface_hub.HfApi, "model_info", no_network)
    client = Hub()  # conftest sets HF_HUB_OFFLINE=1
    assert client.offline
    for call in (lambda: client.search("llama"), lambda: client.files("bartowski/x-GGUF")):
        with pytest.raises(HubError) as info:
            call()
        assert info.value.kind == "offline"
        assert "offline" in str(info.value) and "library" in str(info.value)


def test_offline_as_huggingface_hub_read_it_at_import(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(HubError) as info:
        Hub(endpoint="http://127.0.0.1:9").search()
    assert info.value.kind == "offline"


def test_the_token_is_never_shown():
    client = Hub(endpoint="http://127.0.0.1:9", token="hf_secret_value")
    assert "hf_secret" not in repr(client)
    with pytest.raises(ValueError, match="sort") as info:
        client.search(sort="stars")  # type: ignore[arg-type]
    assert "hf_secret" not in str(info.value)


# --------------------------------------------------------------------------- against the loopback hub


def _fake_gguf(tag: str, size: int = 4096) -> bytes:
    """Bytes that start like a GGUF v3 file; ``tag`` makes each file's hash different."""
    head = b"GGUF" + struct.pack("<IQQ", 3, 0, 0) + tag.encode()
    return head + bytes(size - len(head))


def _online_repos(server: HubServer) -> None:
    gguf = {
        "total": 1_235_814_432,
        "architecture": "llama",
        "context_length": 131072,
        "chat_template": "{{ x }}",
    }
    server.add_repo("alice/alpha-GGUF", {"alpha-Q4_K_M.gguf": _fake_gguf("a")}, downloads=10, likes=5)
    server.add_repo("bob/beta-GGUF", {"beta-Q8_0.gguf": _fake_gguf("b")}, downloads=30, likes=1, gguf=gguf)
    server.add_repo("carol/gamma-GGUF", {"gamma-F16.gguf": _fake_gguf("c")}, downloads=20, likes=9)
    server.add_repo("dan/not-gguf", {"model.safetensors": b"x" * 10}, downloads=1000, likes=100)
    server.add_repo(
        "erin/delta-GGUF", {"delta-Q2_K.gguf": _fake_gguf("e")}, downloads=5, likes=3, gated="manual"
    )


def test_search_sorts_and_paginates_one_request_per_page(hub: HubServer):  # noqa: F811
    _online_repos(hub)
    client = Hub(endpoint=hub.url)
    hub.clear_requests()
    first = client.search(sort="downloads", limit=2)
    assert [r.repo_id for r in first.results] == ["bob/beta-GGUF", "carol/gamma-GGUF"]
    assert first.next is not None and first.next.startswith(hub.url)
    assert len([r for r in hub.requests if r.path.startswith("/api/models?")]) == 1  # not every page
    second = client.search(cursor=first.next)
    assert [r.repo_id for r in second.results] == ["alice/alpha-GGUF", "erin/delta-GGUF"]
    assert second.next is None
    assert len(hub.requests) == 2

    by_likes = client.search(sort="likes", limit=10)
    assert [r.repo_id for r in by_likes.results] == [
        "carol/gamma-GGUF",
        "alice/alpha-GGUF",
        "erin/delta-GGUF",
        "bob/beta-GGUF",
    ]
    assert by_likes.next is None
    recent = client.search(sort="modified", limit=10)
    assert recent.results[0].repo_id == "erin/delta-GGUF"  # added last
    assert all(isinstance(r.updated, datetime) for r in recent.results)


def test_search_results_carry_what_the_list_shows(hub: HubServer):  # noqa: F811
    _online_repos(hub)
    page = Hub(endpoint=hub.url).search("ta-gg", sort="downloads")
    assert [r.repo_id for r in page.results] == ["bob/beta-GGUF", "erin/delta-GGUF"]  # "beta", "delta"
    beta, delta = page.results
    assert (beta.downloads, beta.likes, beta.gated, beta.author) == (30, 1, False, "bob")
    assert beta.gguf is not None and beta.gguf.parameters == 1_235_814_432
    assert beta.gguf.architecture == "llama" and beta.gguf.context_length == 131072
    assert beta.gguf.has_chat_template
    assert delta.gated and delta.gguf is None and "gguf" in delta.tags
    assert Hub(endpoint=hub.url).search("no-such-model").results == []
    # The non-GGUF repository never shows, whatever the sort.
    assert "dan/not-gguf" not in [r.repo_id for r in Hub(endpoint=hub.url).search(sort="likes").results]


def test_a_cursor_from_elsewhere_is_refused(hub: HubServer):  # noqa: F811
    """A cursor is a URL the token is sent to: only this hub's own are followed."""
    with pytest.raises(ValueError, match="cursor"):
        Hub(endpoint=hub.url).search(cursor="http://example.org/api/models?cursor=abc")
    assert hub.requests == []


def test_a_renamed_repository_is_followed(hub: HubServer):  # noqa: F811
    hub.add_repo("old/name-GGUF", {"m-Q4_K_M.gguf": _fake_gguf("m")})
    hub.rename_repo("old/name-GGUF", "new/name-GGUF")
    listing = Hub(endpoint=hub.url).repo("old/name-GGUF")
    assert listing.repo_id == "new/name-GGUF" and [f.name for f in listing.files] == ["m-Q4_K_M.gguf"]


def test_files_listing_with_sizes_hashes_quantizations_and_splits(hub: HubServer, smollm2_path: Path):  # noqa: F811
    parts = {f"F16/tiny-F16-0000{i}-of-00003.gguf": _fake_gguf(f"split{i}", 1000 * i) for i in (1, 2, 3)}
    files = {
        "SmolLM2-135M-Instruct.Q4_1.gguf": smollm2_path,
        "tiny-Q8_0.gguf": _fake_gguf("q8", 3000),
        "tiny.IQ2_XXS.gguf": _fake_gguf("iq2", 2000),
        "mmproj-tiny-f16.gguf": _fake_gguf("proj", 500),
        "half-Q4_K_M-00001-of-00002.gguf": _fake_gguf("half", 700),
        "README.md": b"# tiny\n",
        "config.json": b"{}",
        **parts,
    }
    gguf = {"total": 134_515_008, "architecture": "llama", "context_length": 8192, "chat_template": "{{ m }}"}
    repo = hub.add_repo("tokendice/mixed-GGUF", files, gguf=gguf, tags=["license:apache-2.0"])
    client = Hub(endpoint=hub.url)

    listing = client.repo("tokendice/mixed-GGUF")
    assert listing.commit == repo.commit and listing.license == "apache-2.0" and not listing.gated
    assert listing.gguf is not None and listing.gguf.parameters == 134_515_008
    assert listing.gguf.context_length == 8192 and listing.gguf.architecture == "llama"
    by_name = {f.name: f for f in listing.files}
    assert set(by_name) == {
        "SmolLM2-135M-Instruct.Q4_1.gguf",
        "tiny-Q8_0.gguf",
        "tiny.IQ2_XXS.gguf",
        "mmproj-tiny-f16.gguf",
        "half-Q4_K_M-00001-of-00002.gguf",
        "F16/tiny-F16-00001-of-00003.gguf",
    }
    smol = by_name["SmolLM2-135M-Instruct.Q4_1.gguf"]
    assert smol.size == smollm2_path.stat().st_size
    assert smol.sha256 == hashlib.sha256(smollm2_path.read_bytes()).hexdigest()
    assert smol.quantization == "Q4_1" and smol.loadable
    q8 = by_name["tiny-Q8_0.gguf"]
    assert q8.size == 3000 and q8.sha256 == hashlib.sha256(files["tiny-Q8_0.gguf"]).hexdigest()
    assert by_name["tiny.IQ2_XXS.gguf"].quantization == "IQ2_XXS"
    split = by_name["F16/tiny-F16-00001-of-00003.gguf"]
    assert split.quantization == "F16" and split.split_total == 3 and split.size == 6000 and split.loadable
    assert [p.sha256 for p in split.parts] == [hashlib.sha256(parts[p.path]).hexdigest() for p in split.parts]
    assert by_name["mmproj-tiny-f16.gguf"].kind == "mmproj" and not by_name["mmproj-tiny-f16.gguf"].loadable
    assert not by_name["half-Q4_K_M-00001-of-00002.gguf"].complete
    models = [f.name for f in listing.files if f.kind == "model"]
    assert models == sorted(models, key=lambda n: by_name[n].size or 0)

    # The plain list, and a fit estimate from the hub's parameter count before any download.
    assert client.files("tokendice/mixed-GGUF") == list(listing.files)
    req = requirements_rough(smol.size or 0, 2048, parameters=listing.gguf.parameters, quantization="Q4_1")
    assert req.basis == "hub" and req.weights_bytes == smol.size

    # A pinned revision answers the same; an unknown one says so.
    assert client.files("tokendice/mixed-GGUF", revision=repo.commit) == list(listing.files)
    with pytest.raises(HubError) as info:
        client.files("tokendice/mixed-GGUF", revision="no-such-branch")
    assert info.value.kind == "not_found" and "no-such-branch" in str(info.value)


def test_missing_and_private_repositories(hub: HubServer):  # noqa: F811
    hub.add_repo("someone/secret-GGUF", {"s-Q4_0.gguf": _fake_gguf("s")}, private=True)
    client = Hub(endpoint=hub.url)
    for repo_id in ("nobody/nothing-GGUF", "someone/secret-GGUF"):
        with pytest.raises(HubError) as info:
            client.files(repo_id)
        assert info.value.kind == "not_found"
        sentence = str(info.value)
        assert f"The repository {repo_id} does not exist or is private" in sentence
        assert "log in" in sentence and "Traceback" not in sentence
    with pytest.raises(HubError) as info:
        client.files("not a repository")
    assert info.value.kind == "not_found" and "owner/name" in str(info.value)
    # Private repositories do not show in searches without a token, and do with the owner's token.
    assert client.search().results == []
    owner = Hub(endpoint=hub.url, token=VALID_TOKEN)
    assert [f.name for f in owner.files("someone/secret-GGUF")] == ["s-Q4_0.gguf"]
    assert [r.repo_id for r in owner.search().results] == ["someone/secret-GGUF"]
    assert hub.requests[-1].authorized


def test_gated_repositories(hub: HubServer):  # noqa: F811
    hub.add_repo("meta/locked-GGUF", {"l-Q4_K_M.gguf": _fake_gguf("l")}, gated="manual")
    client = Hub(endpoint=hub.url)
    listing = client.repo("meta/locked-GGUF")  # metadata stays public, as on the hub
    assert listing.gated and [f.name for f in listing.files] == ["l-Q4_K_M.gguf"]
    assert "accept the licence" in client.gated_sentence("meta/locked-GGUF")
    hub.fail_next("/api/models/meta/locked-GGUF", 403, headers={"X-Error-Code": "GatedRepo"})
    with pytest.raises(HubError) as info:
        client.files("meta/locked-GGUF")
    assert info.value.kind == "gated" and info.value.status == 403
    sentence = str(info.value)
    assert "accept the licence" in sentence and f"{hub.url}/meta/locked-GGUF" in sentence
    assert "`hf auth login`" in sentence and "HF_TOKEN" in sentence


@pytest.mark.parametrize(
    ("status", "headers", "kind", "words"),
    [
        (500, {}, "server", "server error (500)"),
        (503, {}, "server", "try again in a few minutes"),
        (429, {"Retry-After": "30"}, "rate_limited", "wait 30 seconds"),
        (401, {"X-Error-Message": "Invalid credentials in Authorization header"}, "auth", "hf auth login"),
        (403, {}, "auth", "not allowed"),
        (400, {}, "http", "(400"),
    ],
)
def test_http_failures_become_sentences_without_retries(
    hub: HubServer,  # noqa: F811
    status: int,
    headers: dict[str, str],
    kind: str,
    words: str,
):
    _online_repos(hub)
    client = Hub(endpoint=hub.url)
    for path, call in (
        ("/api/models?", lambda: client.search("alpha")),
        ("/api/models/alice/alpha-GGUF", lambda: client.files("alice/alpha-GGUF")),
    ):
        hub.clear_requests()
        hub.fail_next(path, status, headers=headers)
        with pytest.raises(HubError) as info:
            call()
        assert info.value.kind == kind and info.value.status == status
        assert words in str(info.value) and str(info.value).endswith(".")
        assert len(hub.requests) == 1  # answered at once: the caller decides whether to retry
    assert [r.repo_id for r in client.search("alpha").results] == ["alice/alpha-GGUF"]  # faults were one-off


def test_connection_refused_says_what_to_check(hub: HubServer):  # noqa: F811
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    client = Hub(endpoint=f"http://127.0.0.1:{port}")
    for call in (client.search, lambda: client.files("a/b")):
        with pytest.raises(HubError) as info:
            call()
        assert info.value.kind == "network"
        assert f"Could not connect to 127.0.0.1:{port}" in str(info.value)
        assert "internet connection" in str(info.value) and "HF_ENDPOINT" in str(info.value)


def test_a_silent_server_times_out(hub: HubServer):  # noqa: F811
    with socket.socket() as listener:  # accepts connections (the backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        client = Hub(endpoint=f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3)
        with pytest.raises(HubError) as info:
            client.search("llama")
    assert info.value.kind == "network" and "did not answer in time" in str(info.value)
