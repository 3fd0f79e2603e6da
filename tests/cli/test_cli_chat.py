"""``tokendice chat`` and ``tokendice chats``: a terminal chat on the core's conversation, saved in the same
database as the window's chats, with the real SmolLM2."""

from __future__ import annotations

import json

from tests.cli.test_cli_basics import assert_one_line_error
from tests.helpers import run_cli

CHAT = ["chat", "--json", "--seed", "5", "--max-tokens", "10"]


def _events(lines: str, *args: str) -> list[dict]:
    proc = run_cli([*CHAT, *args], input=lines)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _kinds(events: list[dict]) -> list[str]:
    return [e["event"] for e in events]


def _json(args: list[str]):
    proc = run_cli([*args, "--json"])
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_hello_then_probs_streams_saves_and_lists_the_chat():
    events = _events("Hello\n/probs\n")
    assert _kinds(events)[:3] == ["model", "chat", "reply_started"]
    tokens = [e for e in events if e["event"] == "token"]
    [reply] = [e for e in events if e["event"] == "reply"]
    assert 1 <= len(tokens) == reply["tokens"] <= 10 and reply["saved"]
    assert [t["token"] for t in tokens] == list(range(1, len(tokens) + 1))
    assert "".join(t["text"] for t in tokens) == reply["text"]
    for t in tokens:
        assert 0 < t["p_raw"] <= 1 and 0 < t["p_final"] <= 1 and 0 <= t["u"] < 1
    [probs] = [e for e in events if e["event"] == "probs"]
    assert probs["token"] == len(tokens) and probs["u"] == tokens[-1]["u"]
    chosen = probs["chosen"]  # the token the die picked there, among the candidates or not
    assert chosen["id"] == tokens[-1]["id"] and abs(chosen["p_raw"] - tokens[-1]["p_raw"]) < 1e-6
    p = [c["p_raw"] for c in probs["candidates"]]
    assert len(p) == 10 and p == sorted(p, reverse=True) and p[0] >= chosen["p_raw"]

    chat_id = events[1]["chat_id"]
    listed = _json(["chats", "list"])
    assert [(c["id"], c["title"], c["messages"]) for c in listed] == [(chat_id, "Hello", 2)]
    shown = _json(["chats", "show", str(chat_id)])
    assert [(m["role"], m["content"]) for m in shown["messages"]] == [
        ("user", "Hello"),
        ("assistant", reply["text"]),
    ]
    assert shown["path"] == [m["id"] for m in shown["messages"]]
    assert shown["messages"][1]["id"] == reply["message_id"]


def test_commands_regen_branch_back_versions_and_system():
    events = _events("/system Answer in one word.\nName a colour.\n/regen\n/prev\n/branch 2 2\n/back\n")
    chat_id = next(e["chat_id"] for e in events if e["event"] == "chat")
    replies = [e for e in events if e["event"] == "reply"]
    assert len(replies) == 3  # the answer, /regen's, and /branch's
    version = next(e for e in events if e["event"] == "version")
    assert (version["index"], version["of"]) == (1, 2) and version["text"] == replies[0]["text"]
    back = next(e for e in events if e["event"] == "back")
    assert back["tokens"] == replies[2]["tokens"] - 1

    shown = _json(["chats", "show", str(chat_id), "--tokens"])
    assert shown["system_prompt"] == "Answer in one word."
    answers = [m for m in shown["messages"] if m["role"] == "assistant"]
    assert len(answers) == 3 and len({m["parent_id"] for m in answers}) == 1  # three versions of one reply
    first = next(m for m in answers if m["id"] == replies[0]["message_id"])
    branch = next(m for m in answers if m["id"] == replies[2]["message_id"])
    # /branch 2 2: the first token kept, the second most likely token taken at the second
    assert branch["tokens"][0]["id"] == first["tokens"][0]["id"]
    assert branch["tokens"][1]["picked"] and branch["tokens"][1]["id"] != first["tokens"][1]["id"]
    assert len(branch["tokens"]) == back["tokens"]  # /back took its last token back, and saved that


def test_resume_continues_the_same_tree():
    first = _events("Hi\n")
    chat_id = first[1]["chat_id"]
    again = _events("And then?\n", "--resume", str(chat_id))
    assert again[1] == {"event": "chat", "chat_id": chat_id, "messages": 2}
    shown = _json(["chats", "show", str(chat_id)])
    assert [m["role"] for m in shown["messages"]] == ["user", "assistant", "user", "assistant"]
    assert len(_json(["chats", "list"])) == 1


def test_wrong_commands_are_sentences_and_the_chat_goes_on():
    events = _events("/probs\n/frobnicate\n/back\nHello\n/branch x\n/probs 99\n/branch 1 9999\n")
    errors = [e["message"] for e in events if e["event"] == "error"]
    assert errors[0] == "there is no reply yet"
    assert errors[1].startswith("unknown command /frobnicate")
    assert "nothing to do" in errors[2]
    assert "whole number" in errors[3]
    assert "has" in errors[4] and "tokens" in errors[4]
    assert "stored candidates" in errors[5]
    assert [e["event"] for e in events].count("reply") == 1


def test_text_mode_streams_the_reply_on_stdout_and_the_rest_on_stderr():
    proc = run_cli(["chat", "--seed", "5", "--max-tokens", "6"], input="Hello\n/probs\n")
    assert proc.returncode == 0, proc.stderr
    reply, table = proc.stdout.split("\n", 1)
    assert reply.strip() and "p(model)" in table and "← chosen" in table
    assert "[chat 1: 0 messages]" in proc.stderr and "tokens" in proc.stderr and "/help" in proc.stderr


def test_errors_of_the_chat_commands_are_one_line():
    assert_one_line_error(run_cli(["chat", "--resume", "42"], input=""), "no chat 42")
    assert_one_line_error(run_cli(["chats", "show", "7"]), "no chat 7")
    proc = run_cli(["chat", "--resume", "1", "--new"], input="")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr
    proc = run_cli(["chats", "list", "--json"])
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_ctrl_c_stops_a_reply_which_is_kept_and_the_chat_goes_on():
    import os
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "desktop_app", *CHAT[:-1], "2000", "--ban-eos"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        proc.stdin.write("Write a very long story.\n")
        proc.stdin.flush()
        events = []
        while not any(e["event"] == "token" for e in events):
            events.append(json.loads(proc.stdout.readline()))
        proc.send_signal(signal.SIGINT)  # as a terminal's Ctrl+C reaches tokendice (which relays it)
        while events[-1]["event"] != "reply":
            events.append(json.loads(proc.stdout.readline()))
        reply = events[-1]
        assert reply["stop_reason"] == "cancelled" and reply["saved"] and 1 <= reply["tokens"] < 2000
        proc.stdin.write("/back\n/quit\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    back = json.loads(out.splitlines()[0])
    assert back == {"event": "back", "tokens": reply["tokens"] - 1, "text": back["text"]}
