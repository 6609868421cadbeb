"""The pipeline's layout: which params.yaml block becomes which stages and which files. Its one home.

params.yaml is the whole pipeline. Each dataset block becomes fetch (when it
reads a source), prepare and a leaderboard; each feature set a vectorize stage;
each model a train, evaluate and export stage (an ensemble one stage of its
own). Every dataset gets the default models of ``textclf.models.architectures`` as
baselines (unless it says ``default_models: false``), and a model that names
no feature set gets its kind's default feature set on its dataset. dvc.yaml is rendered from this
module (`textclf pipeline`) and never edited by hand; the stage scripts,
predict, the fan-out, the benchmarks and the tests ask it for names and paths.

Nothing here imports TensorFlow: it runs in well under a second.
"""

from __future__ import annotations

import ast
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from textclf.core import params as p
from textclf.core import schema
from textclf.core.errors import TextclfError
from textclf.models import architectures
from textclf.pipeline import chart_templates

DVC_YAML = Path("dvc.yaml")
PARAMS = Path("params.yaml")
SOURCES = Path("src") / "textclf"
# Names become paths and stage names: letters, digits, `_` and `-`, starting with a letter or digit.
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")

# Files -------------------------------------------------------------------------
RAW, PREPARED, FEATURES, MODELS = Path("data/raw"), Path("data/prepared"), Path("data/features"), Path("models")
# Each model's test predictions (textclf.reporting.predictions): cached by DVC, outside metrics/, which git keeps.
PREDICTIONS = Path("data/predictions")
METRICS, PLOTS = Path("metrics"), Path("plots")
HUB_MODULES = MODELS / "hub"
PRETRAINED_MODULE, RANDOM_MODULE = HUB_MODULES / "pretrained", HUB_MODULES / "random"
PRETRAIN_REPORT, PRETRAIN_NEIGHBOURS = METRICS / "pretrain.json", METRICS / "pretrain_neighbours.md"
TRANSFER_CELLS = METRICS / "transfer"
TRANSFER_ANALYSIS = METRICS / "transfer_analysis.json"
TRANSFER_PLOTS = PLOTS / "transfer"


def raw(source: str) -> Path:
    return RAW / source


def prepared(dataset: str) -> Path:
    return PREPARED / dataset


def prepared_split(dataset: str, split: str) -> Path:
    return PREPARED / dataset / f"{split}.parquet"


def task_file(dataset: str) -> Path:
    """The task, classes and threshold prepare settled for ``dataset`` (stated in params.yaml or read from the data)."""
    return PREPARED / dataset / "task.json"


def data_report(dataset: str) -> Path:
    return METRICS / "data" / f"{dataset}.json"


def features_dir(name: str) -> Path:
    return FEATURES / name


def model_file(model: str) -> Path:
    return MODELS / model / "model.keras"


def export_dir(model: str) -> Path:
    return MODELS / model / "serving"


def model_metrics(dataset: str, model: str) -> Path:
    """A model's metrics folder: its leaderboard reads every model folder of its dataset, and nothing else."""
    return METRICS / "models" / dataset / model


def train_log(dataset: str, model: str) -> Path:
    """DVCLive's folder: metrics.json (the train summary) and plots/metrics/{train,eval}/*.tsv."""
    return model_metrics(dataset, model) / "train"


def evaluation(dataset: str, model: str) -> Path:
    return model_metrics(dataset, model) / "evaluate.json"


def predictions(dataset: str, model: str) -> Path:
    return PREDICTIONS / dataset / f"{model}.parquet"


def timing(dataset: str, model: str) -> Path:
    return METRICS / "timings" / dataset / f"{model}.json"


def model_plots(model: str) -> Path:
    return PLOTS / "models" / model


def leaderboard_files(dataset: str) -> dict[str, Path]:
    return {"json": METRICS / "leaderboards" / f"{dataset}.json", "markdown": METRICS / "leaderboards" / f"{dataset}.md",
            "csv": PLOTS / "leaderboards" / f"{dataset}.csv", "png": PLOTS / "leaderboards" / f"{dataset}.png"}


def transfer_cell(setup: str) -> Path:
    return TRANSFER_CELLS / f"{setup}.json"


# Blocks -------------------------------------------------------------------------

# A model's family decides the stages that build it: dvc.yaml's foreach groups share one body, so the models
# that depend on more than their features (a module, a teacher's export) have groups of their own.
FAMILY_STAGES = {
    "zoo": ("train", "evaluate", "export"),
    "hub": ("train_hub", "evaluate_hub", "export_hub"),
    "self_trained": ("train_self", "evaluate_self", "export_self"),
}
# Feature kinds' default sets, named <dataset>_<suffix>, for models that name none.
DEFAULT_FEATURES = {"sequence": "words", "ngrams": "ngrams", "text": "text"}


@dataclass(frozen=True)
class Model:
    name: str
    block: dict  # as params.yaml states it; for a default model, only its dataset and architecture
    features: str | None  # None for an ensemble
    params_key: str  # what DVC tracks for it: its block, or the dataset block that implies a default model

    @property
    def dataset(self) -> str:
        return self.block["dataset"]

    @property
    def architecture(self) -> str:
        return self.block["architecture"]

    @property
    def family(self) -> str:
        if self.architecture == architectures.ENSEMBLE:
            return "ensemble"
        if self.block.get("teacher") is not None:
            return "self_trained"
        return "hub" if self.hparams.get("handle") is not None else "zoo"

    @property
    def hparams(self) -> dict:
        """The block over its architecture's defaults, with its features named."""
        chosen = architectures.defaults_of(self.architecture) | self.block
        return chosen | ({"features": self.features} if self.features else {})

    def stage(self, step: str = "train") -> str:
        """The dvc.yaml stage of ``step`` (train, evaluate or export); an ensemble does all three in one."""
        if self.family == "ensemble":
            return self.name
        group = FAMILY_STAGES[self.family][("train", "evaluate", "export").index(step)]
        return f"{group}@{self.name}"


@dataclass(frozen=True)
class Layout:
    params: dict
    sources: dict[str, dict]
    datasets: dict[str, dict]
    features: dict[str, dict]  # each with its kind and dataset; default sets added
    models: dict[str, Model]  # zoo, hub and self-trained models, then ensembles, in params.yaml order
    features_params: dict[str, str]  # feature set -> the params key DVC tracks for it
    invalid: dict[str, list[str]]  # "models.<m>" or "features.<f>" -> what is wrong with the block, one line each

    def check(self) -> None:
        """Stop on every problem of every block: what `textclf pipeline` and the `pipeline` stage say."""
        if self.invalid:
            raise TextclfError("\n".join(dict.fromkeys(line for lines in self.invalid.values() for line in lines)))

    def models_of(self, dataset: str) -> list[str]:
        """What the dataset's leaderboard ranks: its models, then its ensembles."""
        return [name for name, model in self.models.items() if model.dataset == dataset]

    def model(self, name: str) -> Model:
        if f"models.{name}" in self.invalid:
            raise TextclfError("\n".join(self.invalid[f"models.{name}"]))
        if name not in self.models:
            raise TextclfError(f"params.yaml: unknown model '{name}' (known: {', '.join(self.models) or 'none'})")
        return self.models[name]

    def feature_set(self, name: str) -> dict:
        if f"features.{name}" in self.invalid:
            raise TextclfError("\n".join(self.invalid[f"features.{name}"]))
        if name not in self.features:
            raise TextclfError(f"params.yaml: unknown feature set '{name}' (known: {', '.join(self.features) or 'none'})")
        return self.features[name]

    def task_name(self, dataset: str) -> str | None:
        """The dataset's task where params.yaml says it (or a label delimiter implies it); None: prepare reads it from the labels."""
        block = self.datasets[dataset]
        if isinstance(block.get("task"), str) and block["task"] in TASK_CHARTS:
            return block["task"]
        return "multi_label" if block.get("label_delimiter") else None

    @property
    def pretrain_dataset(self) -> str | None:
        block = self.params.get("pretrain")
        dataset = block.get("dataset") if isinstance(block, dict) else None
        return dataset if dataset in self.datasets else None

    @property
    def transfer_setups(self) -> list[str]:
        """The transfer analysis runs when its text features exist and the pretrained modules do."""
        block = self.params.get("transfer")
        if not isinstance(block, dict) or block.get("text_features") not in self.features or not self.pretrain_dataset:
            return []
        return list(block.get("setups") or {})

    def transfer_features(self) -> list[str]:
        block = self.params["transfer"]
        named = [setup.get("features") for setup in block["setups"].values() if isinstance(setup, dict)]
        return list(dict.fromkeys([block["text_features"], *(name for name in named if isinstance(name, str))]))


def _mapping(params: dict, key: str, errors: list[str]) -> dict:
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append(f"params.yaml: '{key}' must be a mapping of names to blocks, got {type(value).__name__}")
        return {}
    for name, block in value.items():
        if not isinstance(name, str) or not SAFE_NAME.fullmatch(name):
            errors.append(f"params.yaml: {key}: name {name!r} is not allowed (names become paths and stage names: "
                          "letters, digits, '_' and '-', starting with a letter or digit)")
        elif not isinstance(block, dict):
            errors.append(f"params.yaml: {key}.{name} must be a mapping of settings, got {block!r}")
    return {name: block for name, block in value.items()
            if isinstance(name, str) and SAFE_NAME.fullmatch(name) and isinstance(block, dict)}


def _nearest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _checked_model(name: str, block: dict, datasets: dict, errors: list[str]) -> bool:
    """Whether model ``name``'s own block is sound; each problem found goes to ``errors``."""
    where = f"params.yaml: models.{name}"
    architecture = block.get("architecture")
    if architecture not in architectures.ARCHITECTURES:
        errors.append(f"{where}.architecture must be one of {', '.join(map(repr, architectures.ARCHITECTURES))}, got "
                      f"{architecture!r}{_nearest(str(architecture), architectures.ARCHITECTURES)}")
        return False
    try:
        schema.validated(architectures.ARCHITECTURES[architecture].block, block, f"models.{name}")
    except TextclfError as error:
        errors += str(error).splitlines()
        return False
    if block["dataset"] not in datasets:
        errors.append(f"{where}.dataset: {block['dataset']!r} is not a dataset of params.yaml "
                      f"(known: {', '.join(datasets) or 'none'})")
        return False
    return True


def resolve(params: dict) -> Layout:
    """The layout of ``params`` (read_params' result).

    A problem with the file's shape or a name stops everything: one error line each, all at once. A problem with
    one feature set or model leaves it out of the layout, with what depends on it, and is kept in ``invalid``: its
    own stages (and the `pipeline` stage, and `textclf pipeline`) stop on it; another block's stages run.
    """
    errors: list[str] = []
    sources = _mapping(params, "sources", errors)
    datasets = _mapping(params, "datasets", errors)
    features = {name: dict(block) for name, block in _mapping(params, "features", errors).items()}
    blocks = _mapping(params, "models", errors)
    for key in params:
        if key in ("hub_models", "self_trained", "ensembles"):
            errors.append(f"params.yaml: '{key}' is now part of 'models' (move its blocks there)")
        elif key not in schema.TOP_LEVEL:
            errors.append(f"params.yaml: unknown block '{key}'{_nearest(str(key), schema.TOP_LEVEL)}")
    if errors:
        raise TextclfError("\n".join(dict.fromkeys(errors)))
    invalid: dict[str, list[str]] = {}

    def refuse(key: str, message: str) -> None:
        invalid.setdefault(key, []).append(message)

    features_params = {name: f"features.{name}" for name in features}
    for name, block in list(features.items()):
        kind = schema.FEATURE_KINDS.get(block.get("kind"))
        try:
            if kind is None:
                raise TextclfError(f"params.yaml: features.{name}.kind must be one of "
                                   f"{', '.join(map(repr, schema.FEATURE_KINDS))}, got {block.get('kind')!r}")
            schema.validated(kind, block, f"features.{name}")
        except TextclfError as error:
            invalid[f"features.{name}"] = str(error).splitlines()
            del features[name]
        else:
            if block["dataset"] in datasets:
                continue
            refuse(f"features.{name}", f"params.yaml: features.{name}.dataset: {block.get('dataset')!r} is not a dataset of "
                                       "params.yaml")
            del features[name]

    models: dict[str, Model] = {}
    for name, block in blocks.items():
        own: list[str] = []
        if not _checked_model(name, block, datasets, own):
            invalid[f"models.{name}"] = own
            continue
        kind = architectures.ARCHITECTURES[block["architecture"]].features
        if kind is None:
            models[name] = Model(name, block, None, f"models.{name}")
            continue
        chosen = block.get("features")
        if chosen is None:
            chosen = f"{block['dataset']}_{DEFAULT_FEATURES[kind]}"
            if chosen not in features:
                features[chosen] = {"kind": kind, "dataset": block["dataset"]}
                features_params[chosen] = f"datasets.{block['dataset']}"
        if f"features.{chosen}" in invalid:
            refuse(f"models.{name}", f"params.yaml: models.{name}.features: feature set {chosen!r} is not valid: "
                                     + "; ".join(invalid[f"features.{chosen}"]))
        elif chosen not in features:
            refuse(f"models.{name}", f"params.yaml: models.{name}.features: unknown feature set {chosen!r}"
                                     f"{_nearest(str(chosen), features)} (known: {', '.join(features) or 'none'})")
        elif features[chosen].get("kind") != kind:
            refuse(f"models.{name}", f"params.yaml: models.{name}.features: {chosen!r} holds {features[chosen].get('kind')!r} "
                                     f"features; a {block['architecture']} model reads {kind!r}")
        elif features[chosen].get("dataset") != block["dataset"]:
            refuse(f"models.{name}", f"params.yaml: models.{name}.features {chosen!r} are fitted on dataset "
                                     f"{features[chosen].get('dataset')!r}, not on the model's dataset {block['dataset']!r}")
        else:
            models[name] = Model(name, block, chosen, f"models.{name}")

    # Every dataset gets the default models, on its default feature sets, as baselines beside its own models
    # (unless its block says `default_models: false`); a block of the same name and dataset takes a default's place.
    for dataset, dataset_block in datasets.items():
        if dataset_block.get("default_models", True) is not True:
            continue
        for architecture in architectures.DEFAULT_ARCHITECTURES:
            name = f"{dataset}_{architecture}"
            kind = architectures.ARCHITECTURES[architecture].features
            chosen = f"{dataset}_{DEFAULT_FEATURES[kind]}"
            if name in blocks and blocks[name].get("dataset") == dataset:
                continue
            if name in blocks or chosen in features and features[chosen].get("dataset") != dataset:
                refuse(f"models.{name}", f"params.yaml: the default model '{name}' of dataset '{dataset}' clashes with a "
                                         "block of that name for another dataset: rename the block, or set "
                                         f"datasets.{dataset}.default_models: false")
                models.pop(name, None)
                continue
            features.setdefault(chosen, {"kind": kind, "dataset": dataset})
            features_params.setdefault(chosen, f"datasets.{dataset}")
            models[name] = Model(name, {"dataset": dataset, "architecture": architecture}, chosen, f"datasets.{dataset}")

    # Teachers and members name other models of the same dataset (checked in params.yaml order, so a chain of
    # ensembles sees its members' verdicts); ensembles come last, as the leaderboard lists them.
    stage_groups = {"pipeline", "fetch", "prepare", "vectorize", "pretrain", "leaderboard", "transfer", "transfer-analysis",
                    *(group for steps in FAMILY_STAGES.values() for group in steps)}
    for name, model in list(models.items()):
        key, where = f"models.{name}", f"params.yaml: models.{name}"
        references = ([model.block["teacher"]] if model.family == "self_trained"
                      else list(model.block.get("members") or []) if model.family == "ensemble" else [])
        for other in references:
            if f"models.{other}" in invalid:
                refuse(key, f"{where}: '{other}' is not valid: " + "; ".join(invalid[f"models.{other}"]))
            elif other == name or other not in models:
                refuse(key, f"{where}: '{other}' is not another model of params.yaml{_nearest(str(other), models)}")
            elif models[other].dataset != model.dataset:
                refuse(key, f"{where}: '{other}' is a model of dataset {models[other].dataset!r}, not of {model.dataset!r}")
        if model.family == "ensemble" and isinstance(model.block.get("members"), list):
            members = model.block["members"]
            if len(members) < 2 or len(set(members)) != len(members):
                refuse(key, f"{where}.members must name two or more different models, got {members}")
        if model.family == "self_trained" and architectures.ARCHITECTURES[model.architecture].reads_module:
            refuse(key, f"{where}: a {model.architecture} student would need its module as a dep of train_self; "
                        "self-train a bow_mean, bilstm or ngram model")
        if model.family == "ensemble" and name in stage_groups:
            refuse(key, f"{where}: an ensemble's stage is named after it, and '{name}' is a stage of the pipeline "
                        "already: rename it")
        if key in invalid:
            del models[name]
    ordered = {name: model for name, model in models.items() if model.family != "ensemble"}
    ordered |= {name: model for name, model in models.items() if model.family == "ensemble"}
    return Layout(params, sources, datasets, features, ordered, features_params, invalid)


def load(path: Path = PARAMS) -> Layout:
    return resolve(p.read_params(path))


# Code deps ------------------------------------------------------------------------

def _imported_modules(path: Path) -> set[str]:
    """Dotted names of the textclf modules ``path`` imports anywhere in its body (lazy imports included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "textclf"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "textclf":
            found.add(node.module)
            # `from textclf.data import preparation` imports the module textclf.data.preparation
            found |= {f"{node.module}.{alias.name}" for alias in node.names
                      if _module_file(f"{node.module}.{alias.name}").is_file()}
    return found


def _module_file(module: str) -> Path:
    """The file of dotted ``module``: a package's __init__.py, or a module's .py."""
    path = SOURCES.joinpath(*module.split(".")[1:])
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def code_deps(script: str) -> list[str]:
    """The script and every project module it runs, directly or through other modules: what its outputs depend on."""
    files, pending = {Path(script)}, [Path(script)]
    while pending:
        for module in _imported_modules(pending.pop()):
            # Importing textclf.a.b runs textclf/__init__.py, then textclf/a/__init__.py, then textclf/a/b.py.
            parts = module.split(".")
            for file in (_module_file(".".join(parts[:end])) for end in range(1, len(parts) + 1)):
                if file not in files and file.is_file():
                    files.add(file)
                    pending.append(file)
    return [script, *sorted(str(file) for file in files if str(file) != script)]


# dvc.yaml -------------------------------------------------------------------------

HEADER = """\
# Rendered from params.yaml by `textclf pipeline` (textclf/pipeline/layout.py): edit params.yaml, then run
# `textclf pipeline` to write this file again. Never edit it by hand: every stage, and the `pipeline`
# stage whenever params.yaml changes, checks that it is current and stops if it is not.
"""
CHECK_COMMAND = "python -m textclf.pipeline.layout --check"
SCRIPTS = Path("stages")


def _script(name: str) -> str:
    return str(SCRIPTS / f"{name}.py")


def _group(items: dict | list, body: dict) -> dict:
    if isinstance(items, dict):
        items = {key: _Flow(value) for key, value in items.items()}
    return {"foreach": items, "do": body}


def _uncached(*paths) -> list:
    return [{str(path): {"cache": False}} for path in paths]


def _model_outs(dataset: str, key: str) -> list:
    return [str(model_file(key)), *_uncached(train_log(dataset, key), timing(dataset, key))]


def _stated(model: Model, key: str) -> str:
    """A value of a model's block as a DVC interpolation of params.yaml, so `dvc exp run -S models.<m>.<key>=...`
    reaches the stage's deps without rendering dvc.yaml again; a default, as it is."""
    return f"${{{model.params_key}.{key}}}" if key in model.block else str(model.hparams[key])


def render(layout: Layout) -> dict:
    """dvc.yaml as a mapping: the metrics and plots of every dataset and model, then every stage."""
    stages: dict = {"pipeline": {"cmd": CHECK_COMMAND, "deps": [str(PARAMS), *code_deps(str(SOURCES / "pipeline" / "layout.py"))]}}
    read_sources = [source for source in layout.sources
                    if any(Path(str(block.get("path", ""))) == raw(source) for block in layout.datasets.values())]
    if read_sources:
        stages["fetch"] = _group(read_sources, {
            "cmd": f"python {_script('fetch')} ${{item}}",
            "deps": code_deps(_script("fetch")),
            "params": ["sources.${item}.format", "sources.${item}.fingerprint"],
            "outs": [f"{RAW}/${{item}}"],
        })
    if layout.datasets:
        stages["prepare"] = _group({name: {"path": f"${{datasets.{name}.path}}"} for name in layout.datasets}, {
            "cmd": f"python {_script('prepare')} ${{key}}",
            "deps": [*code_deps(_script("prepare")), "${item.path}"],
            "params": ["datasets.${key}"],
            "outs": [f"{PREPARED}/${{key}}", *_uncached(f"{METRICS}/data/${{key}}.json")],
        })
    if layout.features:
        stages["vectorize"] = _group(
            {name: {"dataset": block["dataset"], "params": layout.features_params[name]} for name, block in layout.features.items()}, {
                "cmd": f"python {_script('vectorize')} ${{key}}",
                "deps": [*code_deps(_script("vectorize")), f"{PREPARED}/${{item.dataset}}"],
                "params": ["streaming.shard_size", "${item.params}"],
                "outs": [f"{FEATURES}/${{key}}"],
            })
    if layout.pretrain_dataset:
        stages["pretrain"] = {
            "cmd": f"python {_script('pretrain')}",
            "deps": [*code_deps(_script("pretrain")), str(prepared(layout.pretrain_dataset))],
            "params": ["pretrain"],
            "outs": [str(PRETRAINED_MODULE), str(RANDOM_MODULE), *_uncached(PRETRAIN_REPORT, PRETRAIN_NEIGHBOURS)],
        }
    for family, (train, evaluate, export) in FAMILY_STAGES.items():
        members = {name: model for name, model in layout.models.items() if model.family == family}
        if not members:
            continue
        items = {name: {"dataset": model.dataset, "features": _stated(model, "features"), "params": model.params_key,
                        **({"handle": _stated(model, "handle")} if family == "hub" else {}),
                        **({"teacher": _stated(model, "teacher")} if family == "self_trained" else {})}
                 for name, model in members.items()}
        # A hub model depends on its module where the module is a local path (a URL is fetched by TF Hub).
        module = ["${item.handle}"] if family == "hub" else []
        extra = [f"{PREPARED}/${{item.dataset}}/unsup.parquet", f"{MODELS}/${{item.teacher}}/serving"] if family == "self_trained" else []
        task = f"{PREPARED}/${{item.dataset}}/task.json"
        stages[train] = _group(items, {
            "cmd": f"python {_script('train')} ${{key}}",
            "deps": [*code_deps(_script("train")), f"{FEATURES}/${{item.features}}", task, *module, *extra],
            "params": ["training", "streaming" if family == "self_trained" else "streaming.shuffle_buffer", "${item.params}"],
            "outs": [f"{MODELS}/${{key}}/model.keras",
                     *_uncached(f"{METRICS}/models/${{item.dataset}}/${{key}}/train", f"{METRICS}/timings/${{item.dataset}}/${{key}}.json")],
        })
        stages[evaluate] = _group(items, {
            "cmd": f"python {_script('evaluate')} ${{key}}",
            "deps": [*code_deps(_script("evaluate")), f"{FEATURES}/${{item.features}}", task, *module,
                     f"{MODELS}/${{key}}/model.keras", f"{METRICS}/models/${{item.dataset}}/${{key}}/train"],
            "outs": [f"{PREDICTIONS}/${{item.dataset}}/${{key}}.parquet",
                     *_uncached(f"{METRICS}/models/${{item.dataset}}/${{key}}/evaluate.json", f"{PLOTS}/models/${{key}}")],
        })
        stages[export] = _group(items, {
            "cmd": f"python {_script('export')} ${{key}}",
            # The train summary holds the threshold the export decides at.
            "deps": [*code_deps(_script("export")), f"{PREPARED}/${{item.dataset}}", f"{FEATURES}/${{item.features}}", *module,
                     f"{MODELS}/${{key}}/model.keras", f"{METRICS}/models/${{item.dataset}}/${{key}}/train"],
            "outs": [f"{MODELS}/${{key}}/serving"],
        })
    for name, model in layout.models.items():
        if model.family != "ensemble":
            continue
        stages[name] = {
            "cmd": f"python {_script('ensemble')} {name}",
            "deps": [*code_deps(_script("ensemble")), str(prepared(model.dataset)),
                     *(str(export_dir(member)) for member in model.block["members"])],
            "params": [model.params_key],
            "outs": [str(export_dir(name)), str(predictions(model.dataset, name)),
                     *_uncached(train_log(model.dataset, name), evaluation(model.dataset, name),
                                                        model_plots(name), timing(model.dataset, name))],
        }
    ranked = [dataset for dataset in layout.datasets if layout.models_of(dataset)]
    if ranked:
        stages["leaderboard"] = _group(ranked, {
            "cmd": f"python {_script('leaderboard')} ${{item}}",
            "deps": [*code_deps(_script("leaderboard")), f"{PREPARED}/${{item}}/task.json",
                     f"{METRICS}/models/${{item}}", f"{METRICS}/timings/${{item}}"],
            "outs": _uncached(f"{METRICS}/leaderboards/${{item}}.json", f"{METRICS}/leaderboards/${{item}}.md",
                              f"{PLOTS}/leaderboards/${{item}}.csv", f"{PLOTS}/leaderboards/${{item}}.png"),
        })
    setups = layout.transfer_setups
    if setups:
        stages["transfer"] = _group(setups, {
            "cmd": f"python {_script('transfer')} ${{item}}",
            "deps": [*code_deps(_script("transfer")), *(str(features_dir(name)) for name in layout.transfer_features()),
                     str(task_file(layout.features[layout.params["transfer"]["text_features"]]["dataset"])), str(HUB_MODULES)],
            "params": [f"transfer.{key}" for key in layout.params["transfer"] if key != "setups"] + ["transfer.setups.${item}"],
            "outs": _uncached(f"{TRANSFER_CELLS}/${{item}}.json"),
        })
        stages["transfer-analysis"] = {
            "cmd": f"python {_script('transfer_analysis')}",
            "deps": [*code_deps(_script("transfer_analysis")), str(TRANSFER_CELLS)],
            "params": ["transfer.setups", "transfer.sizes"],
            "outs": _uncached(TRANSFER_ANALYSIS, *(TRANSFER_PLOTS / name for name in
                                                   ("grid.csv", "learning_curve.csv", "grid.png", "learning_curve.png"))),
        }
    return {"metrics": _metrics(layout), "plots": _plots(layout), "stages": stages}


def _metrics(layout: Layout) -> list[str]:
    """What people compare across runs (``dvc metrics diff``, ``dvc exp show``): each dataset's leaderboard (every
    model's rank and headline metrics) and the transfer grid. The per-class tables, data counts, hashes and
    training summaries stay files that the report, the charts and the leaderboards read: declared, they made
    ``dvc exp show`` a thousand columns wide."""
    files = [leaderboard_files(dataset)["json"] for dataset in layout.datasets if layout.models_of(dataset)]
    if layout.transfer_setups:
        files.append(TRANSFER_ANALYSIS)
    return [str(path) for path in files]


# The per-model charts each task draws: (title, template, x, file, y). A dataset whose task prepare reads
# from the labels (no `task`, no label delimiter) gets the charts every single-label task has.
# Curves and scores compare models: their templates (textclf.pipeline.chart_templates) color by model.
_CURVES = [("validation loss per epoch", "textclf_curves", "step", "train/plots/metrics/eval/loss.tsv", "loss"),
           ("validation accuracy per epoch", "textclf_curves", "step", "train/plots/metrics/eval/accuracy.tsv", "accuracy"),
           # What early stopping watches: the dataset's main metric at the threshold chosen that epoch.
           ("validation main metric per epoch", "textclf_curves", "step", "train/plots/metrics/eval/score.tsv", "score")]
_CONFUSION = [("confusion matrix (test)", "confusion", "actual", "confusion.csv", "predicted")]
TASK_CHARTS = {
    "binary": [("ROC (test)", "textclf_curves", "fpr", "roc.csv", "tpr"),
               ("precision-recall (test)", "textclf_curves", "recall", "precision_recall.csv", "precision"), *_CONFUSION],
    "multi_class": [*_CONFUSION, ("F1 per class (test)", "bar_horizontal", "f1", "per_class.csv", "class")],
    "multi_label": [("ROC-AUC per label (test)", "bar_horizontal", "roc_auc", "per_class.csv", "class"),
                    ("F1 per label (test)", "bar_horizontal", "f1", "per_class.csv", "class")],
    None: _CONFUSION,
}


def _plots(layout: Layout) -> list:
    charts: list = []
    for dataset in layout.datasets:
        names = layout.models_of(dataset)
        if not names:
            continue
        board = leaderboard_files(dataset)
        charts.append({f"{dataset}: main test metric by model": {
            "template": "textclf_scores", "x": "score", "y": {str(board["csv"]): "model"}}})
        trained = [name for name in names if layout.models[name].family != "ensemble"]
        for title, template, x, file, y in _CURVES:
            charts.append({f"{dataset}: {title}": {
                "template": template, "x": x, "y": {str(model_metrics(dataset, name) / file): y for name in trained}}})
        for title, template, x, file, y in TASK_CHARTS[layout.task_name(dataset)]:
            charts.append({f"{dataset}: {title}": {
                "template": template, "x": x, "y": {str(model_plots(name) / file): y for name in names}}})
        charts.append(str(board["png"]))
    if layout.transfer_setups:
        charts += [
            {"Transfer grid": {"template": "bar_horizontal_sorted", "x": "accuracy", "y": {str(TRANSFER_PLOTS / "grid.csv"): "setup"}}},
            {"Learning curve (test accuracy)": {"template": "linear", "x": "labelled_reviews",
                                                "y": {str(TRANSFER_PLOTS / "learning_curve.csv"): layout.transfer_setups}}},
            str(TRANSFER_PLOTS / "grid.png"), str(TRANSFER_PLOTS / "learning_curve.png"),
        ]
    return charts


class _Flow(dict):
    """A foreach item: one line in dvc.yaml."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):  # lists indented under their key, as DVC's docs write them
        return super().increase_indent(flow, False)


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))


def _as_text(pipeline: dict) -> str:
    body = yaml.dump(pipeline, Dumper=_Dumper, sort_keys=False, width=240, default_flow_style=False, allow_unicode=True)
    lines: list[str] = []
    section = None
    for line in body.splitlines():
        if not line.startswith(" "):  # a blank line before each section and each stage
            if lines:
                lines.append("")
            section = line.rstrip(":")
        elif section == "stages" and re.fullmatch(r"  [^ -].*:", line) and lines[-1] != "stages:":
            lines.append("")
        lines.append(line)
    return HEADER + "\n".join(lines) + "\n"


def rendered(layout: Layout | None = None) -> str:
    return _as_text(render(layout or load()))


def check_current(layout: Layout | None = None) -> None:
    """Stop with one line when dvc.yaml is not what params.yaml renders: a stale pipeline must never run silently."""
    expected = rendered(layout)
    actual = DVC_YAML.read_text(encoding="utf-8") if DVC_YAML.is_file() else ""
    if actual != expected:
        changed = next((line for line in difflib.unified_diff(actual.splitlines(), expected.splitlines(), lineterm="", n=0)
                        if line[:1] in "+-" and not line.startswith(("+++", "---"))), "")
        raise TextclfError(f"dvc.yaml is out of date with params.yaml (first difference: {changed.strip()!r}): "
                           "run `textclf pipeline` to write it again, then `dvc repro`")


def write() -> Path:
    """dvc.yaml from params.yaml: every valid block's stages (an invalid block's are left out; its errors say why),
    and, in a DVC project, the plot templates its charts name."""
    text = rendered()
    if not DVC_YAML.is_file() or DVC_YAML.read_text(encoding="utf-8") != text:
        DVC_YAML.write_text(text, encoding="utf-8")
    if Path(".dvc").is_dir():  # before `dvc init`, a .dvc/ folder would make it fail
        chart_templates.write()
    return DVC_YAML


def stage_layout() -> Layout:
    """What a stage script starts with: the layout of params.yaml, once dvc.yaml is known to be its rendering."""
    layout = load()
    check_current(layout)
    return layout


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="textclf pipeline", description="Write dvc.yaml from params.yaml (textclf.pipeline.layout).")
    parser.add_argument("--check", action="store_true", help="only check that dvc.yaml is current (exit 1 if it is not) "
                        "and write the chart templates if they are missing")
    args = parser.parse_args(argv)
    layout = load()
    if args.check:
        check_current(layout)
        layout.check()
        if Path(".dvc").is_dir():  # the `pipeline` stage: a project rendered before `dvc init` gets them here
            chart_templates.write()
        print("dvc.yaml is current with params.yaml")
        return
    write()
    print(f"wrote dvc.yaml: {len(layout.datasets)} dataset(s), {len(layout.features)} feature set(s), {len(layout.models)} model(s)"
          + (f", without {', '.join(layout.invalid)}, whose blocks are not valid:" if layout.invalid else ""))
    layout.check()


if __name__ == "__main__":
    from textclf.core.errors import run_stage

    run_stage(main)
