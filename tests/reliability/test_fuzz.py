"""The public API fuzzed from its own OpenAPI document (schemathesis): thousands of valid
and invalid requests, as a student, a parent, a tutor and an operator, and never a 5xx."""

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
CONFIG = Path(__file__).parent / "schemathesis.toml"


@pytest.mark.parametrize("who", ["student", "parent", "tutor", "admin"])
async def test_every_request_built_from_the_schema_gets_the_answer_it_documents(
    settings: Any, auth: Any, sandbox: Any, who: str, tmp_path: Path
) -> None:
    cli = Path(sys.executable).parent / "schemathesis"
    proc = await asyncio.create_subprocess_exec(
        str(cli), "--config-file", str(CONFIG), "run", f"{settings.public_base_url}/openapi.json",
        "--checks", "all", "--max-examples", "10",
        "--phases", "examples,coverage,fuzzing", "--generation-deterministic",
        "--request-timeout", "10", "--exclude-path", "/api/events",
        "-H", f"Authorization:{auth(who)['Authorization']}",
        "--report", "junit", "--report-dir", str(tmp_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=tmp_path)
    out, _ = await asyncio.wait_for(proc.communicate(), timeout=600)
    text = out.decode()
    failures = text.find("=== FAILURES ===")
    assert proc.returncode == 0, text[failures:][:6000] if failures >= 0 else text[-4000:]
    tried = sum(int(n) for n in re.findall(r"(\d+) generated", text)) or None
    print(f"\nfuzz as {who}: {tried or '?'} requests generated, every check clean")
