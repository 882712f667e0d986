"""The dialogue engine benchmark's pure parts: reading the Rasa script's lines, the figures."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import pytest

from bench.engine import (
    P50_TARGET_MS,
    EngineFailure,
    Errors,
    LineReader,
    Sample,
    breakdown,
    choose_model,
    figures,
    parse_ready,
    parse_reply,
)
from bot.cli.model import model_path


def test_an_answer_line_gives_the_times_the_messages_and_the_logged_errors() -> None:
    line = json.dumps(
        {
            "ms": 41.25,
            "cpu_ms": 38,
            "nlu_ms": 9.5,
            "messages": [{"recipient_id": "telegram:1", "text": "Hoi!"}],
            "errors": {"rasa.core.processor": 1},
        }
    )
    reply = parse_reply(line)
    assert reply.failure is None
    assert reply.ms == 41.25
    assert reply.cpu_ms == 38.0
    assert reply.nlu_ms == 9.5
    assert reply.messages == [{"recipient_id": "telegram:1", "text": "Hoi!"}]
    assert reply.errors == {"rasa.core.processor": 1}


def test_an_answer_without_the_extra_times_still_counts() -> None:
    reply = parse_reply('{"ms": 12, "messages": []}')
    assert reply.ms == 12.0
    assert math.isnan(reply.cpu_ms) and math.isnan(reply.nlu_ms)
    assert reply.errors == {}


@pytest.mark.parametrize(
    "line",
    [
        '{"error": "timeout after 15.0 s"}',
        "not json",
        "[1, 2]",
        '{"messages": []}',
        '{"ms": -1, "messages": []}',
        '{"ms": true, "messages": []}',
        '{"ms": "12", "messages": []}',
        '{"ms": 12, "messages": "hoi"}',
        '{"ms": 12, "messages": [], "errors": 3}',
        '{"ms": 12, "messages": [], "errors": {"rasa": "x"}}',
    ],
)
def test_anything_else_is_a_failed_call(line: str) -> None:
    reply = parse_reply(line)
    assert reply.ms is None
    assert reply.failure


def test_the_ready_line_gives_the_load_time_and_anything_else_stops_the_run() -> None:
    assert parse_ready('{"ready": true, "load_s": 43.1, "rasa": "3.6.21"}') == 43.1
    with pytest.raises(EngineFailure, match="did not load: load: OSError"):
        parse_ready('{"error": "load: OSError: no such file"}')
    with pytest.raises(EngineFailure, match="not JSON"):
        parse_ready("2026-12-07 INFO rasa: loading")


def test_only_rasa_failures_count_as_wrong_answers() -> None:
    errors = Errors()
    assert errors.add({"rasa.core.processor": 1, "rasa.core.actions.action": 1}) == 2
    assert errors.add({"rasa.core.nlg.interpolator": 3}) == 0
    assert errors.add({"rasa.core.nlg.interpolator": 1}) == 0
    assert errors.total == 2
    assert errors.other_logged == {"rasa.core.nlg.interpolator": 4}


def test_the_figures_are_percentiles_of_the_wall_times_with_the_target_on_p50() -> None:
    samples = [Sample("hoi", float(ms), cpu_ms=ms / 2, nlu_ms=5.0) for ms in range(1, 101)]
    lines = {line["figure"]: line for line in figures(samples, Errors(), "werkmaatje-x.tar.gz")}
    assert lines["engine_cost_p50_ms"]["value"] == 50.5
    assert lines["engine_cost_p50_ms"]["target"] == P50_TARGET_MS == 30.0
    assert lines["engine_cost_p90_ms"]["value"] == 90.1
    assert lines["engine_cost_p99_ms"]["value"] == 99.01
    assert lines["engine_cost_p99_ms"]["target"] is None
    assert lines["engine_cpu_p50_ms"]["value"] == 25.25
    assert lines["engine_nlu_p50_ms"]["value"] == 5.0
    assert lines["engine_cost_errors"]["value"] == 0
    assert lines["engine_cost_errors"]["target"] == 0
    assert {line["n"] for line in lines.values()} == {100}
    assert {line["model"] for line in lines.values()} == {"werkmaatje-x.tar.gz"}
    json.dumps(list(lines.values()), allow_nan=False)  # valid JSON, no NaN


def test_no_samples_give_null_values_not_nan() -> None:
    lines = figures([], Errors(failed_calls=1), "m")
    assert [line["value"] for line in lines] == [None, None, None, None, None, 1]
    json.dumps(lines, allow_nan=False)


def test_the_breakdown_has_a_row_per_kind_of_message_and_one_for_all() -> None:
    samples = [Sample("hoi", 10.0), Sample("first_name", 20.0), Sample("hoi", 30.0)]
    rows = breakdown(samples).splitlines()
    assert [row.split()[0] for row in rows[1:]] == ["hoi", "first_name", "all"]
    assert rows[1].split()[1:3] == ["2", "20.0"]
    assert rows[3].split()[1] == "3"


def test_the_model_is_the_one_for_the_current_data_else_the_newest(tmp_path: Path) -> None:
    assert choose_model(None, tmp_path) == (None, f"no model in {tmp_path / 'models'}")
    models = tmp_path / "models"
    models.mkdir()
    older, newer = models / "werkmaatje-aaaa.tar.gz", models / "werkmaatje-bbbb.tar.gz"
    for path, mtime in ((older, 1_000_000), (newer, 2_000_000)):
        path.write_bytes(b"")
        os.utime(path, (mtime, mtime))
    chosen, why = choose_model(None, tmp_path)
    assert chosen == newer
    assert "newest" in why
    current = model_path(tmp_path)
    current.write_bytes(b"")
    os.utime(current, (0, 0))
    assert choose_model(None, tmp_path)[0] == current
    assert choose_model(older, tmp_path)[0] == older
    assert choose_model(models / "missing.tar.gz", tmp_path)[0] is None


def test_the_reader_gives_whole_lines_and_times_out() -> None:
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as read_end:
        reader = LineReader(read_end)
        os.write(write_fd, b'{"ms": 1}\n{"ms"')
        assert reader.read(1.0) == '{"ms": 1}'
        start = time.monotonic()
        with pytest.raises(EngineFailure, match="did not answer"):
            reader.read(0.05)
        assert time.monotonic() - start < 1.0
        os.write(write_fd, b": 2}\n")
        assert reader.read(1.0) == '{"ms": 2}'
        os.close(write_fd)
        with pytest.raises(EngineFailure, match="ended"):
            reader.read(1.0)
