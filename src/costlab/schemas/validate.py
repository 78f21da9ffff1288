"""Check a composed config against the group schemas; one CostlabError naming every bad key, type and YAML file."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any, Iterable, Literal, Union, get_args, get_origin

from omegaconf import DictConfig, ListConfig, OmegaConf
from pydantic import BaseModel, RootModel, ValidationError

from costlab.errors import CostlabError
from costlab.paths import CONFIG_DIR
from costlab.schemas import GROUPS, Plugin, RootConfig

MISSING = "???"


def plain(node: Any) -> Any:
    """Resolved plain data of a config node; a missing value ('???', or an interpolation to one) stays '???'."""
    if isinstance(node, DictConfig):
        out = {}
        for k in node.keys():
            try:
                out[k] = plain(node[k])
            except Exception:  # MissingMandatoryValue, InterpolationToMissingValueException, ...
                out[k] = MISSING
        return out
    if isinstance(node, ListConfig):
        out = []
        for i in range(len(node)):
            try:
                out.append(plain(node[i]))
            except Exception:
                out.append(MISSING)
        return out
    return node


def hydra_choices() -> dict[str, str]:
    """Hydra's runtime choices (group → option) when a Hydra app is running, else {}."""
    try:
        from hydra.core.hydra_config import HydraConfig

        return {k: v for k, v in dict(HydraConfig.get().runtime.choices).items() if v is not None}
    except Exception:
        return {}


# ------------------------------------------------------------------------------------------ where a key is set
def _defines(path: Path, leaf: str) -> bool:
    try:
        return re.search(rf"^\s*{re.escape(leaf)}\s*:", path.read_text(encoding="utf-8"), re.M) is not None
    except OSError:
        return False


def _group_files(group: str, choice: str | None) -> list[Path]:
    """The chosen YAML of a group and the same-group files its `defaults` list pulls in."""
    if not choice:
        return []
    first = CONFIG_DIR / group / f"{choice}.yaml"
    files, todo = [], [first]
    while todo:
        f = todo.pop(0)
        if f in files or not f.exists():
            continue
        files.append(f)
        for d in OmegaConf.load(f).get("defaults") or []:
            if isinstance(d, str) and not d.startswith("/") and d != "_self_":
                todo.append(CONFIG_DIR / group / f"{d}.yaml")
    return files


def where(key: str, choices: dict[str, str]) -> str:
    """The YAML file(s) that set ``key`` (dotted, group first), for the error message."""
    parts = key.split(".")
    group, leaf = parts[0], parts[-1]
    rel = lambda p: str(p.relative_to(CONFIG_DIR.parent))  # noqa: E731
    if group not in GROUPS or len(parts) == 1:
        txt = rel(CONFIG_DIR / "config.yaml")
    else:
        files = _group_files(group, choices.get(group))
        hits = []
        for name in reversed(parts[1:]):  # the leaf, else the section that holds it (an unknown key)
            hits = [f for f in files if _defines(f, name)]
            if hits:
                break
        hits = hits or files[:1]
        txt = " / ".join(rel(f) for f in hits) if hits else f"configs/{group}/<choice>.yaml"
    exp = choices.get("exp")
    if exp and _defines(CONFIG_DIR / "exp" / f"{exp}.yaml", leaf):
        txt += f" (or its override in configs/exp/{exp}.yaml)"
    return txt + " or a command-line override"


# ------------------------------------------------------------------------------------------ expected types
def _unwrap(ann: Any, data: Any) -> Any:
    if isinstance(ann, type) and issubclass(ann, RootModel):
        ann = ann.model_fields["root"].annotation
    if get_origin(ann) in (Union, types.UnionType):
        members = [a for a in get_args(ann) if a is not type(None)]
        models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
        if models and isinstance(data, dict):  # a tagged union: pick the member whose Literal tag matches
            for m in models:
                for n, f in m.model_fields.items():
                    if get_origin(f.annotation) is Literal and data.get(f.alias or n) in get_args(f.annotation):
                        return m
        if len(members) == 1:
            return members[0]
    return ann


def _annotation(model: type[BaseModel], parts: list[str], data: Any) -> Any:
    ann: Any = model
    for part in parts:
        ann = _unwrap(ann, data)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            f = next((f for n, f in ann.model_fields.items() if (f.alias or n) == part), None)
            if f is None:
                return None
            ann = f.annotation
        elif get_origin(ann) is dict:
            ann = get_args(ann)[1]
        elif get_origin(ann) in (list, tuple):
            ann = get_args(ann)[0]
        else:
            return None
        data = data.get(part) if isinstance(data, dict) else None
    return ann


def type_name(ann: Any) -> str:
    if ann is None:
        return "?"
    origin, args = get_origin(ann), get_args(ann)
    if origin in (Union, types.UnionType):
        names = [type_name(a) for a in args if a is not type(None)]
        return " or ".join(names) + (" or null" if type(None) in args else "")
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in args)
    if origin in (list, tuple):
        return f"a list of {type_name(args[0])}" if args else "a list"
    if origin is dict:
        return f"a mapping of {type_name(args[1])}" if args else "a mapping"
    if isinstance(ann, type) and issubclass(ann, Plugin):
        return "a mapping with _target_"
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return "a mapping"
    return getattr(ann, "__name__", str(ann))


def _allowed_keys(ann: Any, data: Any) -> list[str]:
    ann = _unwrap(ann, data)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [f.alias or n for n, f in ann.model_fields.items()]
    return []


# ------------------------------------------------------------------------------------------ errors → lines
def _key_path(loc: Iterable[Any], data: Any) -> list[str]:
    """pydantic's loc without union tags / RootModel markers: only the parts that are keys of the data."""
    parts, cur, loc = [], data, list(loc)
    for i, p in enumerate(loc):
        if isinstance(cur, dict) and p in cur:
            parts.append(str(p))
            cur = cur[p]
        elif isinstance(cur, list) and isinstance(p, int) and p < len(cur):
            parts.append(str(p))
            cur = cur[p]
        elif i == len(loc) - 1 and isinstance(cur, dict) and isinstance(p, str):
            parts.append(p)  # the last part names a key that is missing from the data
    return parts


def _lines(prefix: str, model: type[BaseModel], data: Any, err: ValidationError, choices: dict[str, str]) -> list[str]:
    out = []
    for e in err.errors():
        parts = _key_path(e["loc"], data)
        key = ".".join([prefix, *parts]) if prefix else ".".join(parts)
        file = where(key, choices)
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(_annotation(model, parts[:-1], data), _dig(data, parts[:-1]))
            out.append(f"{key}: unknown key (set in {file}); allowed here: {', '.join(allowed) or '-'}")
        elif e["type"] == "missing":
            out.append(f"{key}: missing — expected {type_name(_annotation(model, parts, data))} (set it in {file})")
        else:
            exp = type_name(_annotation(model, parts, data))
            out.append(f"{key} = {e.get('input')!r}: expected {exp} ({e['msg']}) — in {file}")
    return out


def _dig(data: Any, parts: list[str]) -> Any:
    for p in parts:
        data = data.get(p) if isinstance(data, dict) else None
    return data


def _plugins(obj: Any, path: str) -> Iterable[tuple[str, Plugin]]:
    if isinstance(obj, Plugin):
        yield path, obj
    elif isinstance(obj, BaseModel):
        for n, f in type(obj).model_fields.items():
            yield from _plugins(getattr(obj, n), f"{path}.{f.alias or n}")
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _plugins(v, f"{path}.{k}")


def check(cfg: DictConfig, choices: dict[str, str] | None = None, groups: list[str] | None = None) -> dict[str, Any]:
    """Validate the groups present in ``cfg`` (or only ``groups``) and, for a full check, the top-level keys.
    Returns {group: typed section} ("_root_": the top-level keys)."""
    choices = hydra_choices() if choices is None else choices
    # one group: resolve it in place (its interpolations reach into other groups, e.g. ${paths.run_dir})
    data = plain(cfg) if groups is None else {g: plain(cfg[g]) for g in groups if g in cfg}
    lines: list[str] = []
    typed: dict[str, Any] = {}
    if groups is None:
        root = {k: v for k, v in data.items() if k not in GROUPS}
        try:
            typed["_root_"] = RootConfig.model_validate(root)
        except ValidationError as e:
            lines += _lines("", RootConfig, root, e, choices)
    for group, model in GROUPS.items():
        if group not in data:
            continue
        try:
            obj = model.model_validate(data[group])
        except ValidationError as e:
            lines += _lines(group, model, data[group], e, choices)
            continue
        typed[group] = obj.root if isinstance(obj, RootModel) else obj
        for path, plugin in _plugins(typed[group], group):
            try:
                cls = plugin.target_class()
            except (ImportError, AttributeError) as e:
                lines.append(
                    f"{path}._target_ = {plugin.target!r}: cannot be imported ({e}) — in {where(path + '._target_', choices)}"
                )
                continue
            params = getattr(cls, "Params", None)
            if isinstance(params, type) and issubclass(params, BaseModel):
                try:
                    params.model_validate(plugin.params)
                except ValidationError as e:
                    lines += _lines(path, params, plugin.params, e, choices)
    if lines:
        raise CostlabError(
            "the config does not match its schema (src/costlab/schemas/):\n  " + "\n  ".join(lines),
            "fix the key in the YAML file named (or the override), or add a new key to the group's "
            "schema in src/costlab/schemas/<group>.py",
        )
    return typed


__all__ = ["MISSING", "check", "hydra_choices", "plain", "type_name", "where"]
