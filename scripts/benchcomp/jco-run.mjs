// jco-run.mjs runs a WASI 0.3 component that `jco transpile` turned into
// an ES module, calling its wasi:cli/run@0.3.0 export (`jco run` calls
// the module's `run` export, which for these components is
// wasi:cli/run@0.2.0, whose body is an unreachable `main`).
//
//   node jco-run.mjs --module DIR/NAME.js [--runs R] [--preopen HOSTDIR]
//        [--env K=V]... [--stdin FILE | --real-stdin] [--timings FILE] [-- ARGS...]
//
// --preopen names a template: each run gets a fresh copy of it (made
// before the clock starts, removed after), preopened as "/", so that the
// filesystem tests, which create and remove entries, neither touch the
// template nor see what an earlier run left.
//
// Each of the R runs imports the module afresh (a new URL, so the module
// is evaluated again: its core modules instantiated, its $init run) and
// awaits run(). The component's stdout and stderr are the process's.
// wasi:cli/exit is caught (process.exit throws) so that later runs go on;
// stdin is served from FILE (default: empty) to every run. --timings writes a JSON array
// with, per run, the exit code and the milliseconds of the import and of
// run(). The process exits with the last run's exit code (134 for a trap).
//
// The module's directory must resolve @bytecodealliance/preview2-shim and
// @bytecodealliance/preview3-shim (scripts/benchcomp links them).
import process from "node:process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { performance } from "node:perf_hooks";
import { createRequire } from "node:module";

const opts = { runs: 1, env: {}, args: [] };
{
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") { opts.args = argv.slice(i + 1); break; }
    if (a === "--real-stdin") { opts.realStdin = true; continue; }
    const v = argv[++i];
    if (v === undefined) usage(`${a} needs a value`);
    switch (a) {
      case "--module": opts.module = v; break;
      case "--runs": opts.runs = Number(v); break;
      case "--preopen": opts.preopen = v; break;
      case "--env": { const j = v.indexOf("="); opts.env[v.slice(0, j)] = v.slice(j + 1); break; }
      case "--stdin": opts.stdin = readFileSync(v); break;
      case "--timings": opts.timings = v; break;
      default: usage(`unknown option ${a}`);
    }
  }
  if (!opts.module || !(opts.runs >= 1)) usage("--module is required and --runs must be ≥ 1");
}

function usage(msg) {
  process.stderr.write(`jco-run: ${msg}\n`);
  process.exit(2);
}

// The shims are resolved from the module's directory, so that the
// instances configured here are the ones the module imports.
const req = createRequire(pathToFileURL(opts.module));
const shim = async (spec) => import(pathToFileURL(req.resolve(spec)));
const cli2 = await shim("@bytecodealliance/preview2-shim/cli");
const cli3 = await shim("@bytecodealliance/preview3-shim/cli");
const fs3 = await shim("@bytecodealliance/preview3-shim/filesystem");
const stream3 = await shim("@bytecodealliance/preview3-shim/stream");
const future3 = await shim("@bytecodealliance/preview3-shim/future");

const name = opts.module.replace(/^.*\//, "").replace(/\.js$/, "") + ".wasm";
// The generated code takes the WASI 0.2 cli interfaces from the top-level
// preview2-shim and the 0.3 ones from preview3-shim, which wraps a copy of
// preview2-shim of its own: both are configured.
for (const cli of [cli2, cli3]) {
  cli._setArgs([name, ...opts.args]);
  cli._setEnv(opts.env);
  cli._setCwd(undefined); // no initial cwd, as wasisim and Wasmtime
  // The shim reports a terminal on every stdio stream, piped or not: these
  // are pipes.
  cli._setTerminalStdin(undefined);
  cli._setTerminalStdout(undefined);
  cli._setTerminalStderr(undefined);
}
// The shim's stdin resolves its result future only once the stream has
// been read to the end: a guest that drops stdin early and awaits the
// result (cli-stdio, cli-stdout-flush) waits for ever. Unless --real-stdin
// is given, stdin is served from --stdin (or empty) with the result ready.
if (!opts.realStdin) {
  const data = new Uint8Array(opts.stdin ?? []);
  cli3.stdin.readViaStream = () => {
    const { tx, rx } = future3.future();
    // The result is known at once: a reader that stops early (drops the
    // stream after what it needed) still gets it.
    tx.write({ tag: "ok", val: undefined });
    async function* chunks() {
      if (data.length) yield data;
    }
    return [new stream3.StreamReader(chunks()), rx];
  };
}

class Exit extends Error {
  constructor(code) { super(`exit ${code}`); this.code = code; }
}
const realExit = process.exit.bind(process);
process.exit = (code) => { throw new Exit(code ?? 0); };

const url = pathToFileURL(opts.module).href;
const timings = [];
let code = 0;
for (let i = 0; i < opts.runs; i++) {
  let root;
  if (opts.preopen) {
    root = mkdtempSync(join(tmpdir(), "jco-run-"));
    cpSync(opts.preopen, root, { recursive: true, verbatimSymlinks: true });
    fs3._setPreopens({ "/": root });
  }
  const t0 = performance.now();
  let t1 = t0;
  try {
    const mod = await import(`${url}?run=${i}`);
    t1 = performance.now();
    const run = mod["wasi:cli/run@0.3.0"];
    if (!run) throw new Error("the module has no wasi:cli/run@0.3.0 export");
    await run.run();
    code = 0;
  } catch (e) {
    if (e instanceof Exit) code = e.code;
    else if (e?.constructor?.name === "ComponentError") code = 1;
    else { code = 134; process.stderr.write(`jco-run: ${e?.stack ?? e}\n`); }
  }
  const t2 = performance.now();
  timings.push({ exit: code, import_ms: t1 - t0, run_ms: t2 - t1 });
  if (root) rmSync(root, { recursive: true, force: true });
}
if (opts.timings) writeFileSync(opts.timings, JSON.stringify(timings));
// Let the shim's stdout worker flush before exiting.
await new Promise((resolve) => setTimeout(resolve, 0));
realExit(code);
