"""params.yaml's schema: every block, its keys, their types and defaults (pydantic), and the JSON Schema editors read.

Each block of params.yaml is one class here; a key with a default may be left
out, a key without one must be stated. ``validated`` checks a block and returns
it over its defaults, every problem at once, one ``error:`` line each with the
key's full name. ``python -m textclf.core.schema`` writes ``params.schema.json``
(params.yaml names it in its first line, so editors that speak YAML's language
server complete and check the file as it is typed).

The values pass through unchanged (no coercion: ``epochs: "3"`` is refused, not
read as 3), each checked by the rule of ``textclf.core.params`` it names.
"""

from __future__ import annotations

import codecs
import difflib
import json
import re
import sys
from pathlib import Path
from typing import Annotated, Any, ClassVar, Union, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from textclf.core import params as p
from textclf.core.errors import TextclfError

JSON_SCHEMA = Path("params.schema.json")
TASK_NAMES = ("binary", "multi_class", "multi_label")
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", "none")


def _checked(check: p.Check, json_schema: dict) -> Any:
    """A value type: ``check``'s rule at validation, ``json_schema`` in the JSON Schema."""

    def validate(value: Any) -> Any:
        complaint = check(value)
        if complaint:
            raise PydanticCustomError("textclf", "{complaint}", {"complaint": complaint})
        return value

    return Annotated[Any, PlainValidator(validate), WithJsonSchema(json_schema)]


def _choice(*choices: str) -> Any:
    return _checked(p.one_of(*choices), {"enum": list(choices)})


def _nullable(json_schema: dict) -> dict:
    return {"anyOf": [json_schema, {"type": "null"}]}


def check_classes(value: Any) -> str | None:
    if not isinstance(value, list) or not value:
        return "must be a non-empty list"
    if any(isinstance(item, bool) or not isinstance(item, (str, int)) or str(item).strip() == "" for item in value):
        return "items must be non-empty strings or integers"
    if any(isinstance(item, str) and item != item.strip() for item in value):
        return "items must not start or end with spaces (a label is read without them)"
    if len({str(item) for item in value}) != len(value):
        return "must not repeat a class"
    return None


def _encoding(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be the name of a text encoding (utf-8, latin-1, cp1252, ...)"
    try:
        codecs.lookup(value)
    except LookupError:
        return "is not an encoding Python knows (utf-8, latin-1, cp1252, ...)"
    return None


def _delimiter(value: Any) -> str | None:
    return None if value is None or isinstance(value, str) and value else "must be a string of one or more characters"


_INT, _NUMBER, _STRING = {"type": "integer"}, {"type": "number"}, {"type": "string", "minLength": 1}
PositiveInt = _checked(p.positive_int, _INT | {"minimum": 1})
NonNegativeInt = _checked(p.non_negative_int, _INT | {"minimum": 0})
PositiveFloat = _checked(p.positive_float, _NUMBER | {"exclusiveMinimum": 0})
NonNegativeFloat = _checked(p.non_negative_float, _NUMBER | {"minimum": 0})
Probability = _checked(p.probability, _NUMBER | {"minimum": 0, "exclusiveMaximum": 1})
Fraction = _checked(p.fraction, _NUMBER | {"exclusiveMinimum": 0, "exclusiveMaximum": 1})
Boolean = _checked(p.boolean, {"type": "boolean"})
Text = _checked(p.text, _STRING)
OptionalText = _checked(p.optional(p.text), _nullable(_STRING))
OptionalPositiveInt = _checked(p.optional(p.positive_int), _nullable(_INT | {"minimum": 1}))
PositiveInts = _checked(p.list_of(p.positive_int), {"type": "array", "items": _INT | {"minimum": 1}, "minItems": 1})
Texts = _checked(p.list_of(p.text), {"type": "array", "items": _STRING, "minItems": 1})
_CLASSES_SCHEMA = {"type": "array", "items": {"type": ["string", "integer"]}, "minItems": 1, "uniqueItems": True}
Classes = _checked(check_classes, _CLASSES_SCHEMA)
OptionalClasses = _checked(p.optional(check_classes), _nullable(_CLASSES_SCHEMA))
Threshold = _checked(p.optional(p.fraction), _nullable(_NUMBER | {"exclusiveMinimum": 0, "exclusiveMaximum": 1}))
Encoding = _checked(_encoding, {"type": "string", "examples": ["utf-8", "latin-1", "cp1252"]})
Delimiter = _checked(_delimiter, _nullable({"type": "string", "minLength": 1}))


class Block(BaseModel):
    """A block of params.yaml: its keys are these fields, and no other."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {name: field.default for name, field in cls.model_fields.items() if not field.is_required()}


# sources ------------------------------------------------------------------------------------------------------------

class Source(Block):
    """`sources.<name>`: a file or archive fetch@<name> downloads (or reads from a local path or file:// URL)."""

    format: _choice("imdb_archive", "file") = Field(description="imdb_archive: the IMDB tarball, read into records; "
                                                                 "file: kept as it is")
    url: Text = Field(description="The canonical URL; TEXTCLF_SOURCE_<NAME> points it at a local copy")
    fingerprint: OptionalText = Field(None, description="sha256 of what was read; null: print it, check nothing")


# datasets -----------------------------------------------------------------------------------------------------------

class _Dataset(Block):
    path: Text = Field(description="The labelled file (a table reader) or the fetched folder it reads")
    task: _checked(p.optional(p.one_of(*TASK_NAMES)), _nullable({"enum": list(TASK_NAMES)})) = Field(
        None, description="null: read from the labels (a label_delimiter means multi_label; two classes binary)")
    classes: OptionalClasses = Field(None, description="null: the labels found, sorted (whole numbers by value)")
    threshold: Threshold = Field(None, description="The probability at or above which a binary or multi-label class "
                                                   "is chosen; null: each model's own, chosen on the validation split "
                                                   "to maximize the main metric (F1 when no threshold changes it)")
    metric: OptionalText = Field(None, description="The main metric: what the leaderboard ranks by, early stopping "
                                                   "watches and a threshold maximizes; null: accuracy (binary), "
                                                   "macro_f1 (multi_class) or roc_auc_micro (multi_label)")
    seed: NonNegativeInt = Field(42, description="Seeds the split")
    default_models: Boolean = Field(True, description="Add the default models (ngram, bow_mean) for this dataset")


class _Split(Block):
    validation_fraction: Fraction = Field(0.1, description="Share of the labelled rows held out for validation")
    test_fraction: Fraction = Field(0.2, description="Share of the labelled rows held out for the test")
    split: _choice("stratified", "shuffle") = Field("stratified", description="stratified: every class in every split, "
                                                                               "in its share (multi-label: by rarest label)")


class TableDataset(_Dataset, _Split):
    """`datasets.<name>` read from a CSV, TSV, JSONL or parquet file of labelled texts (the default reader)."""

    reader: _choice("table") = "table"
    format: _choice("auto", "csv", "tsv", "jsonl", "parquet") = Field("auto", description="auto: from the suffix")
    text_column: Text
    label_column: Text
    label_delimiter: Delimiter = Field(None, description="Splits a cell into several labels (a multi-label task)")
    split_column: OptionalText = Field(None, description="A column saying train/validation/test per row "
                                                         "(instead of the fractions)")
    encoding: Encoding = Field("utf-8", description="The file's text encoding")


class ImdbDataset(_Dataset):
    """`datasets.<name>` read from the IMDB archive's records (sentiment or star ratings)."""

    reader: _choice("imdb")
    classes: Classes
    label: _choice("sentiment", "rating") = Field("sentiment", description="sentiment: neg/pos; rating: stars")
    validation_fraction: Fraction = Field(0.2, description="Share of the train reviews held out (by movie)")
    limit_per_label: OptionalPositiveInt = Field(None, description="Keep at most this many reviews per label")


class MoviesMetadataDataset(_Dataset, _Split):
    """`datasets.<name>` read from The Movies Dataset's metadata: overviews tagged with their genres."""

    reader: _choice("movies_metadata")
    classes: Classes


DATASET_READERS: dict[str, type[Block]] = {"table": TableDataset, "imdb": ImdbDataset,
                                           "movies_metadata": MoviesMetadataDataset}


# features -----------------------------------------------------------------------------------------------------------

class _Features(Block):
    dataset: Text = Field(description="The dataset whose train split fits the vocabulary")


class _Vocabulary(_Features):
    standardize: _choice(*STANDARDIZE) = "lower_and_strip_punctuation"
    fit_unlabelled: Boolean = Field(False, description="Fit the vocabulary on the unlabelled texts too")


class SequenceFeatures(_Vocabulary):
    """`features.<name>` of kind sequence: token ids, for embedding models."""

    kind: _choice("sequence")
    max_tokens: PositiveInt = Field(20000, description="Vocabulary size, the padding and OOV ids included")
    sequence_length: PositiveInt = Field(512, description="Tokens kept per text")


class NgramFeatures(_Vocabulary):
    """`features.<name>` of kind ngrams: multi-hot bags of word n-grams, for linear models."""

    kind: _choice("ngrams")
    max_tokens: PositiveInt = Field(1000000, description="Vocabulary size, the OOV id included")
    ngrams: PositiveInt = Field(2, description="The longest n-gram")


class TextFeatures(_Features):
    """`features.<name>` of kind text: the cleaned texts, for models that tokenize inside (TF Hub modules)."""

    kind: _choice("text")


FEATURE_KINDS: dict[str, type[Block]] = {"sequence": SequenceFeatures, "ngrams": NgramFeatures, "text": TextFeatures}


# models -------------------------------------------------------------------------------------------------------------

class ModelBlock(Block):
    dataset: Text = Field(description="The dataset it is trained and ranked on")
    # What the architecture reads: a feature kind, or None for an ensemble (its members' exports).
    reads: ClassVar[str | None]


class TrainedModel(ModelBlock):
    features: OptionalText = Field(None, description="A feature set of its kind; null: <dataset>_words, "
                                                     "<dataset>_ngrams or <dataset>_text")
    teacher: OptionalText = Field(None, description="Self-training: pseudo-label the unlabelled texts with this "
                                                    "model's export first")
    seed: NonNegativeInt = 42
    batch_size: PositiveInt = 64
    epochs: PositiveInt = Field(30, description="A cap: early stopping keeps the epoch with the best main metric "
                                                "on the validation split")
    learning_rate: PositiveFloat = 0.001
    patience: NonNegativeInt = Field(2, description="Epochs without a better validation main metric before stopping")
    class_weight: _choice("balanced", "none") = Field(
        "balanced", description="balanced: every class weighs the same in the loss, however rare (binary and "
                                "multi_class; a multi-label task's labels keep their own shares); none: every example")


class BowMeanModel(TrainedModel):
    """The mean of word embeddings under a small MLP (the bag-of-embeddings baseline)."""

    reads: ClassVar[str | None] = "sequence"
    architecture: _choice("bow_mean")
    embedding_dim: PositiveInt = 16
    hidden_units: PositiveInt = 16
    mask_padding: Boolean = True


class BilstmModel(TrainedModel):
    """One or more bidirectional LSTMs."""

    reads: ClassVar[str | None] = "sequence"
    architecture: _choice("bilstm")
    embedding_dim: PositiveInt = 64
    lstm_units: PositiveInts = Field([64], description="One bidirectional layer per item")
    hidden_units: PositiveInt = 64
    dropout: Probability = 0.0
    bucket_by_length: Boolean = True


class NgramModel(TrainedModel):
    """A linear model on n-gram bags: TF-IDF weighted, naive-Bayes weighted (NBSVM) or plain."""

    reads: ClassVar[str | None] = "ngrams"
    architecture: _choice("ngram")
    weighting: _choice("tfidf", "naive_bayes", "none") = Field(
        "tfidf", description="tfidf: idf-weighted bags of unit length, the strong default on a few thousand texts; "
                             "naive_bayes: NBSVM's log-count ratios, stronger on tens of thousands of long texts")
    # A linear model on a few thousand texts: large steps, a light L2 penalty, and the time to reach the penalized
    # optimum (TF-IDF logistic regression's), which the validation split's main metric keeps rising towards.
    learning_rate: PositiveFloat = 0.03
    epochs: PositiveInt = Field(200, description="A cap: early stopping keeps the epoch with the best main metric "
                                                 "on the validation split")
    patience: NonNegativeInt = Field(10, description="Epochs without a better validation main metric before stopping")
    l2: NonNegativeFloat = Field(1e-6, description="L2 penalty on the linear weights (per weight, on the mean loss)")


class CnnModel(TrainedModel):
    """A 1-D convolution over word vectors, started from a pretrained module's (``handle``; null: random)."""

    reads: ClassVar[str | None] = "sequence"
    architecture: _choice("cnn")
    handle: OptionalText = None
    embedding_dim: PositiveInt = 128
    filters: PositiveInt = 256
    kernel_size: PositiveInt = 5
    dropout: Probability = 0.25
    bucket_by_length: Boolean = True


class HubDnnModel(TrainedModel):
    """A TF Hub text-embedding module under Dense layers."""

    reads: ClassVar[str | None] = "text"
    architecture: _choice("hub_dnn")
    handle: Text = Field(description="A local module (models/hub/pretrained) or a tfhub.dev / Kaggle handle")
    trainable: Boolean = Field(True, description="Fine-tune the module's weights")
    hidden_units: PositiveInts = [16]


class EnsembleModel(ModelBlock):
    """One Dense layer over its members' logits, fitted on the validation split."""

    reads: ClassVar[str | None] = None
    architecture: _choice("ensemble")
    members: Texts = Field(description="Two or more models of the same dataset")
    seed: NonNegativeInt = 42
    epochs: PositiveInt = 500
    learning_rate: PositiveFloat = 0.05
    l2: NonNegativeFloat = 0.0001


MODEL_ARCHITECTURES: dict[str, type[ModelBlock]] = {
    "bow_mean": BowMeanModel, "bilstm": BilstmModel, "ngram": NgramModel, "cnn": CnnModel, "hub_dnn": HubDnnModel,
    "ensemble": EnsembleModel,
}
# The keys every block has, which are not hyper-parameters.
STRUCTURAL_KEYS = ("dataset", "architecture", "features", "teacher")


# the other blocks ---------------------------------------------------------------------------------------------------

class Streaming(Block):
    """`streaming`: how vectorize@ stores a split and train@ reads it back."""

    shard_size: PositiveInt = Field(5000, description="Texts per TFRecord shard")
    shuffle_buffer: PositiveInt = Field(25000, description="Examples held for shuffling")


class Training(Block):
    """`training`: where train@ and train_hub@ run, and in which float precision."""

    distribution: _choice("default", "mirrored", "multi_worker") = "default"
    precision: _choice("float32", "mixed_float16", "mixed_bfloat16") = "float32"


class Pretrain(Block):
    """`pretrain`: skip-gram word vectors from a dataset's unlabelled texts and train split, as TF Hub modules."""

    dataset: Text
    vocab_size: PositiveInt
    min_count: PositiveInt
    dim: PositiveInt
    window: PositiveInt
    subsample: PositiveFloat
    negatives: PositiveInt
    epochs: PositiveInt
    learning_rate: PositiveFloat
    oov_buckets: PositiveInt
    seed: NonNegativeInt
    neighbours: Texts = Field(description="Words whose nearest neighbours the report lists")


# The union tags of blocks whose class depends on a key (a dataset's reader, a model's architecture): each
# names one class. pydantic puts the tag in an error's location, which error_lines takes out again.
TAGGED: dict[str, type[Block]] = {}


def _tagged(classes: dict[str, type[Block]], key: str, default: str | None = None, by_presence: bool = False) -> Any:
    """One of ``classes``, chosen by the block's ``key`` (``default`` where it has none), or by whether the block
    holds ``key`` at all (``by_presence``); a JSON Schema ``oneOf`` for editors."""
    TAGGED.update(classes)
    members = tuple(Annotated[cls, Tag(name)] for name, cls in classes.items())

    def tag(block: Any) -> str | None:
        if not isinstance(block, dict):
            return None
        return (key if key in block else default) if by_presence else str(block.get(key, default))

    tag.__name__ = key  # pydantic names the discriminator in an error by it
    return Annotated[Union[members], Discriminator(tag)]


class ModuleSetup(Block):
    """A transfer setup: a hub_dnn on a module, frozen or fine-tuned."""

    module: Text
    trainable: Boolean
    patience: NonNegativeInt = None


class ZooSetup(Block):
    """A transfer setup: an architecture on its own features (any of the architecture's keys may follow)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    architecture: Text
    features: Text
    patience: NonNegativeInt = None


class Transfer(Block):
    """`transfer`: seed 001's grid and a learning curve; every setup is trained at every size."""

    seed: NonNegativeInt
    sizes: PositiveInts
    text_features: Text
    hidden_units: PositiveInts
    batch_size: PositiveInt
    epochs: PositiveInt
    learning_rate: PositiveFloat
    patience: NonNegativeInt
    class_weight: _choice("balanced", "none") = Field("balanced", description="As a model's: shared by every cell")
    # A setup with a `module` is a hub_dnn on it; one without, an architecture on its own features.
    setups: dict[str, _tagged({"module": ModuleSetup, "architecture": ZooSetup}, "module", "architecture",
                                              by_presence=True)]


class Params(Block):
    """params.yaml: every block. Names of sources, datasets, feature sets and models become paths and stage names."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="textclf params.yaml")
    sources: dict[str, Source] = {}
    datasets: dict[str, _tagged(DATASET_READERS, "reader", "table")] = {}
    features: dict[str, _tagged(FEATURE_KINDS, "kind")] = {}
    models: dict[str, _tagged(MODEL_ARCHITECTURES, "architecture")] = {}
    streaming: Streaming = Streaming()
    training: Training = Training()
    pretrain: Pretrain | None = None
    transfer: Transfer | None = None


TOP_LEVEL = tuple(Params.model_fields)


# validation -----------------------------------------------------------------------------------------------------------

def _nearest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _located(cls: type[BaseModel], location: tuple) -> tuple[list[str], type[BaseModel]]:
    """``location`` without the union tags pydantic inserts after a name of a tagged mapping (``models.<m>.<tag>``),
    and the block class it ends in."""
    path, position = [], 0
    while position < len(location):
        part = location[position]
        path.append(str(part))
        field = cls.model_fields.get(part) if isinstance(part, str) else None
        blocks = [kind for kind in (field.annotation, *get_args(field.annotation)) if isinstance(kind, type)
                  and issubclass(kind, BaseModel)] if field is not None else []
        if blocks:  # a nested block (``transfer``, which may be null)
            cls = blocks[0]
        elif field is not None and position + 2 < len(location) and location[position + 2] in TAGGED:
            path.append(str(location[position + 1]))
            cls, position = TAGGED[location[position + 2]], position + 2
        position += 1
    return path, cls


def error_lines(error: ValidationError, cls: type[BaseModel], where: str, source: str = "params.yaml") -> list[str]:
    """One line per problem of ``error``, each naming the key in full: ``params.yaml: models.m.epochs must be ...``."""
    lines = []
    for problem in error.errors():
        parents, inner = _located(cls, problem["loc"][:-1])
        key = str(problem["loc"][-1]) if problem["loc"] else ""
        block = ".".join(part for part in [where, *parents] if part)
        named = ".".join(part for part in (block, key) if part)
        at = f"{source}: {block}:" if block else f"{source}:"  # where a missing or unknown key is said to be
        if problem["type"] == "union_tag_invalid":
            chosen = problem["ctx"]["discriminator"].rstrip("()")
            expected = problem["ctx"]["expected_tags"]
            lines.append(f"{source}: {named}.{chosen} must be one of {expected}, got {problem['input'].get(chosen)!r}"
                         + _nearest(problem["ctx"]["tag"], re.findall(r"'([^']*)'", expected)))
        elif problem["type"] in ("union_tag_not_found", "model_type", "dict_type"):
            lines.append(f"{source}: {named} must be a mapping of settings, got {problem['input']!r}")
        elif problem["type"] == "missing":
            lines.append(f"{at} missing key '{key}'")
        elif problem["type"] == "extra_forbidden":
            lines.append(f"{at} unknown key '{key}'{_nearest(key, inner.model_fields)}")
        elif problem["type"] == "textclf":
            lines.append(f"{source}: {named} {problem['ctx']['complaint']}, got {problem['input']!r}")
        else:
            lines.append(f"{source}: {named}: {problem['msg'][:1].lower()}{problem['msg'][1:]}, got {problem['input']!r}")
    return lines


def validated(cls: type[Block], block: Any, where: str, source: str = "params.yaml") -> dict[str, Any]:
    """``block`` (the one at dotted ``where``) over ``cls``'s defaults, or every problem with it at once."""
    if not isinstance(block, dict):
        raise TextclfError(f"{source}: {where} must be a mapping of settings, got {block!r}")
    try:
        checked = cls.model_validate(block)
    except ValidationError as error:
        raise TextclfError("\n".join(error_lines(error, cls, where, source))) from None
    return _plain(checked)


def _plain(value: Any) -> Any:
    """A checked block as the dict it came from, over its defaults: the defaults first, then what the block states."""
    if isinstance(value, BaseModel):
        stated = [key for key in type(value).model_fields if key in value.model_fields_set]
        keys = type(value).defaults() | dict.fromkeys(stated) | (value.model_extra or {})
        return {key: _plain(getattr(value, key)) for key in keys}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def block_of(params: dict, where: str, cls: type[Block], source: str = "params.yaml") -> dict[str, Any]:
    """The block at dotted ``where`` of ``params``, validated; a block with only defaults may be left out."""
    block = params
    for part in where.split("."):
        block = block.get(part) if isinstance(block, dict) else None
    if block is None and not any(field.is_required() for field in cls.model_fields.values()):
        block = {}
    if block is None:
        raise TextclfError(f"{source}: missing block '{where}'")
    return validated(cls, block, where, source)


def json_schema() -> dict:
    schema = Params.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def render_json_schema() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """``python -m textclf.core.schema [--check]``: write params.schema.json, or say whether it is current."""
    text = render_json_schema()
    if "--check" in (sys.argv[1:] if argv is None else argv):
        if not JSON_SCHEMA.is_file() or JSON_SCHEMA.read_text(encoding="utf-8") != text:
            print(f"{JSON_SCHEMA} is not what the schema renders: run `python -m textclf.core.schema`", file=sys.stderr)
            return 1
        return 0
    JSON_SCHEMA.write_text(text, encoding="utf-8")
    print(f"wrote {JSON_SCHEMA}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
