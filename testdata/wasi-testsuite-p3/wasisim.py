"""wasi-testsuite runtime adapter for wasisim: WASI 0.3 components
(wasm32-wasip3) and preview-1 modules (wasm32-wasip1).

Build wasisim, then run the suite's runner with this adapter (Python >= 3.12
with colorama and requests):

    go build -o /usr/local/bin/wasisim ./cmd/wasisim
    python3 testdata/wasi-testsuite-p3/test-runner/wasi_test_runner.py \\
        -t testdata/wasi-testsuite-p3/wasm32-wasip3 \\
        -r testdata/wasi-testsuite-p3/wasisim.py

WASISIM may name the command (default: wasisim on PATH; for example
WASISIM="go run ./cmd/wasisim"). The test's root directory is copied into
the world's in-memory file system and preopened as "/"; it is never written
back, so the suite's files stay as they are. wasi:http is not provided.

A test in which the runner connects to the guest (a "connect" operation,
as sockets-echo) runs with --publish 127.0.0.1:*: each guest listener on
loopback is bridged to the same port of the machine, where the runner
connects to the address the guest prints. No other test can reach the
machine's network.
"""
import json
import os
import shlex
from typing import Dict, List, Optional, Tuple

WASISIM = shlex.split(os.getenv("WASISIM", "wasisim"), posix=(os.name != "nt"))


def get_name() -> str:
    return "wasisim"


def get_version() -> str:
    return "0.0.0"


def get_wasi_versions() -> List[str]:
    return ["wasm32-wasip1", "wasm32-wasip3"]


def get_wasi_worlds() -> List[str]:
    return ["wasi:cli/command"]


def get_timeout_seconds() -> float:
    # A guest that waits for the runner (a read of stdin, an accept) is
    # served when the runner acts; nothing waits longer than this.
    return 60.0


def compute_argv(test_path: str,
                 args_env_root: Tuple[List[str], Dict[str, str], Optional[str]],
                 proposals: List[str],
                 wasi_world: str,
                 wasi_version: str) -> List[str]:
    args, env, root = args_env_root
    argv = WASISIM + ["run"]
    if _runner_connects(test_path):
        argv += ["--publish", "127.0.0.1:*"]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    if root:
        argv += ["--dir", f"{root}::/"]
    argv += [test_path]
    argv += args
    return argv


def _runner_connects(test_path: str) -> bool:
    """Whether the test's configuration has the runner connect to the guest."""
    config = os.path.splitext(test_path)[0] + ".json"
    try:
        with open(config, encoding="utf-8") as f:
            ops = json.load(f).get("operations", [])
    except (OSError, ValueError):
        return False
    return any(op.get("type") == "connect" for op in ops)
