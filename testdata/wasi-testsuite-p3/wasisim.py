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
"""
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
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    if root:
        argv += ["--dir", f"{root}::/"]
    argv += [test_path]
    argv += args
    return argv
