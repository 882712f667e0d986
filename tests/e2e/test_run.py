"""`werkmaatje run`, what `make run` calls: starts everything, answers, stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from bot.cli.launcher import settings_env
from core.paths import PROJECT_PYTHON, ROOT
from tests.support.stack import make_settings

pytestmark = pytest.mark.e2e


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_run_serves_the_web_chat_and_stops_on_ctrl_c(trained_model: Path, tmp_path: Path) -> None:
    settings = make_settings(database_url=f"sqlite:///{tmp_path / 'run.db'}")
    env = {
        **os.environ,
        **settings_env(settings),
        "RASA_MODEL": str(trained_model),
    }
    process = subprocess.Popen(
        [str(PROJECT_PYTHON), "-m", "bot.cli", "run"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    ports = [settings.gateway_port, settings.rasa_port, settings.action_server_port]
    try:
        assert process.stdout is not None
        output = []
        for line in process.stdout:
            output.append(line)
            if "Press Ctrl-C to stop." in line or process.poll() is not None:
                break
        text = "".join(output)
        assert "Werkmaatje is ready" in text, text
        assert f"http://127.0.0.1:{settings.gateway_port}/chat" in text
        assert all(listening(port) for port in ports)

        reply = httpx.post(
            f"http://127.0.0.1:{settings.gateway_port}/chat/messages",
            json={"text": "hoi"},
            timeout=30,
        )
        welcome, consent = reply.json()["messages"]
        assert "chatbot" in welcome["text"]
        assert [button["title"] for button in consent["buttons"]] == ["Ja", "Nee"]

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        assert not any(listening(port) for port in ports)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
