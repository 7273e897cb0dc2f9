"""wasi-testsuite runtime adapter for wasisim (WASI preview 1 guests).

Run the suite against wasisim with, from a wasi-testsuite checkout:

    go build -o /usr/local/bin/wasisim ./cmd/wasisim   # in the wasisim repo
    python3 test-runner/wasi_test_runner.py \
        -t tests/rust/testsuite/wasm32-wasip1 \
        -r /path/to/wasisim/testdata/wasi-testsuite/wasisim.py

WASISIM may name the binary (default: wasisim on PATH). Directories are
copied into the world's in-memory filesystem and written back after the run,
so a test sees the effects a real host would leave.
"""
import os
import shlex
from pathlib import Path
from typing import Dict, List, Tuple

WASISIM = shlex.split(os.getenv("WASISIM", "wasisim"))


def get_name() -> str:
    return "wasisim"


def get_version() -> str:
    return "0.0.0"


def compute_argv(test_path: str,
                 args: List[str],
                 env: Dict[str, str],
                 dirs: List[Tuple[Path, str]]) -> List[str]:
    argv = WASISIM + ["run", "--dir-write-back"]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    for host, guest in dirs:
        argv += ["--dir", f"{host}::{guest}"]
    argv += [test_path]
    argv += args
    return argv
