"""The layering newcomers rely on: the domain core imports no edge, and the queue's names line up."""

import ast
from pathlib import Path

from arq import Worker

from jobs.models import load_once
from jobs.worker import FUNCTIONS, create_worker
from spek.jobs.queue import JobFunction
from spek.settings import Settings
from tests.support import run_async

ROOT = Path(__file__).resolve().parent.parent
# The edge: the only modules of `spek/` that may import the API, the worker, or a web framework
# (`python -m spek` is the CLI).
EDGE = (ROOT / "spek" / "web", ROOT / "spek" / "cli.py", ROOT / "spek" / "__main__.py")
FORBIDDEN_IN_CORE = (
    "graphql_schema",
    "jobs",
    "telegram_bot",
    "aiogram",
    "starlette",
    "strawberry",
    "spek.web",
    "spek.cli",
)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every module a file imports, at any depth (imports inside functions count too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _is_forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN_IN_CORE)


def test_the_domain_core_imports_no_edge() -> None:
    core = [p for p in (ROOT / "spek").rglob("*.py") if not any(p == e or e in p.parents for e in EDGE)]
    assert len(core) > 40  # the walk found the core
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in core
        for line, module in _imports(path)
        if _is_forbidden(module)
    ]
    assert offences == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "sneaky.py"
    module.write_text(
        "def handler():\n    from starlette.responses import Response\n    import graphql_schema.schema\n"
    )
    assert [m for _, m in _imports(module) if _is_forbidden(m)] == ["starlette.responses", "graphql_schema.schema"]


def test_every_job_function_the_api_enqueues_has_a_worker_function_of_that_name() -> None:
    assert set(FUNCTIONS) == set(JobFunction)
    assert {function.name for function in FUNCTIONS.values()} == {member.value for member in JobFunction}


def test_a_worker_keeps_the_models_it_loads_from_one_job_to_the_next(tmp_path: Path) -> None:
    """ARQ runs each job with a shallow copy of the worker's context: a model one job loaded must still be
    there for the next (stored on the job's copy, Whisper, the diarizer and the embedder were loaded again
    by every job: about 4 s of a 7 s transcription of a short memo)."""
    settings = Settings(
        database_url="postgresql://spek:spek@127.0.0.1:1/spek", redis_url="redis://127.0.0.1:1/0", data_dir=tmp_path
    )
    for worker in (create_worker(settings), create_worker(settings, chat=True)):
        run_async(worker.on_startup(worker.ctx))
        loads: list[str] = []

        def job(job_id: str, worker: Worker = worker, loads: list[str] = loads) -> object:
            ctx = {**worker.ctx, "job_id": job_id, "job_try": 1}  # as arq.worker.Worker.run_job builds it
            return load_once(ctx, "model", lambda: loads.append(job_id) or object())

        assert job("first") is job("second") is job("third")
        assert loads == ["first"]
        run_async(worker.on_shutdown(worker.ctx))
