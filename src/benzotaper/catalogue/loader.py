"""Strict loading of the catalogue data files: any mistake names the file and the field."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from benzotaper.catalogue.catalogue import Catalogue, iter_sourced
from benzotaper.catalogue.models import Drug, Product, Reference, Strict
from benzotaper.errors import CatalogueError

M = TypeVar("M", bound=BaseModel)

#: The shipped data folder, beside the package's modules (as ``benzotaper.snapshot`` finds it).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class CatalogueMeta(Strict):
    version: str
    default_source: str
    default_source_reason: str
    fallback_sources: tuple[str, ...] = ()


def read_toml(path: Path, where: str | None = None) -> dict[str, Any]:
    """Parse one TOML file; TOML itself already refuses duplicate keys. (tomllib is imported
    here: a command reading the validated snapshot parses no TOML.)"""
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"{where or path.name}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise CatalogueError(f"{path}: cannot be read: {exc.strerror}") from None


def validate(model: type[M], data: object, where: str) -> M:
    """Validate data with a message that says where the fault is, field by field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            lines.append(f"{where}: {_loc(err['loc'])}: {_msg(err['type'], err['msg'])}")
        raise CatalogueError("\n".join(lines)) from None


def _loc(parts: tuple[int | str, ...]) -> str:
    """('products', 1, 'split') -> 'products[1].split', the way the TOML reads."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _msg(kind: str, msg: str) -> str:
    if kind == "extra_forbidden":
        return "unknown field (check the spelling; see catalogue/models.py)"
    return msg.removeprefix("Value error, ")


def load_catalogue(data_dir: Path | None = None) -> Catalogue:
    """Read catalogue.toml, references.toml and drugs/*.toml, and check every source resolves."""
    root = data_dir or DATA_DIR
    meta = validate(CatalogueMeta, read_toml(root / "catalogue.toml"), "catalogue.toml")

    references: dict[str, Reference] = {}
    for key, entry in read_toml(root / "references.toml").items():
        if not isinstance(entry, dict):
            raise CatalogueError(f"references.toml: {key}: expected a table")
        references[key] = validate(Reference, {"key": key, **entry}, f"references.toml [{key}]")

    drugs: dict[str, Drug] = {}
    files = sorted((root / "drugs").glob("*.toml"))
    if not files:
        raise CatalogueError(f"{root / 'drugs'}: no drug files found")
    for path in files:
        drug = validate(Drug, read_toml(path, f"drugs/{path.name}"), f"drugs/{path.name}")
        if drug.id != path.stem:
            raise CatalogueError(
                f"drugs/{path.name}: id: {drug.id!r} must match the file name {path.stem!r}"
            )
        for where, fact in iter_sourced(drug):
            if fact.source not in references:
                raise CatalogueError(
                    f"drugs/{path.name}: {where}: source {fact.source!r} is not in references.toml"
                )
        for i, product in enumerate(drug.products):
            for what, key in _product_sources(product):
                if key not in references:
                    raise CatalogueError(
                        f"drugs/{path.name}: products[{i}]{what}: source {key!r} "
                        "is not in references.toml"
                    )
        drugs[drug.id] = drug

    if meta.default_source not in references:
        raise CatalogueError(f"catalogue.toml: default_source {meta.default_source!r} is unknown")
    for key in meta.fallback_sources:
        if key not in references:
            raise CatalogueError(
                f"catalogue.toml: fallback_sources: {key!r} is not in references.toml"
            )
    _check_names_unique(drugs)
    check_codes_unique(drugs)
    return Catalogue(
        version=meta.version,
        default_source=meta.default_source,
        default_source_reason=meta.default_source_reason,
        fallback_sources=tuple(meta.fallback_sources),
        drugs=drugs,
        references=references,
    )


def _product_sources(product: Product) -> list[tuple[str, str]]:
    """The product's own source and its codes' sources, each with where it is written."""
    found = [("", product.source)]
    found += [
        (f".{name}", c.source)
        for name, c in (("rxnorm", product.rxnorm), ("dmd", product.dmd))
        if c is not None
    ]
    return found


def check_codes_unique(drugs: Mapping[str, Drug]) -> None:
    """No RxNorm or dm+d code (current or previous) may name two products: a code read from
    an EHR must lead to one."""
    owner: dict[tuple[str, str], str] = {}
    for drug in drugs.values():
        for i, product in enumerate(drug.products):
            for system, code in (("rxnorm", product.rxnorm), ("dmd", product.dmd)):
                if code is None:
                    continue
                here = f"drugs/{drug.id}.toml: products[{i}].{system}"
                for one in code.all_codes:
                    first = owner.setdefault((system, one), here)
                    if first != here or code.all_codes.count(one) > 1:
                        raise CatalogueError(f"{here}: code {one} is already used by {first}")


def _check_names_unique(drugs: dict[str, Drug]) -> None:
    from benzotaper.catalogue.catalogue import normalise_name

    owner: dict[str, str] = {}
    for drug in drugs.values():
        fields = [("id", drug.id), ("name", drug.name)]
        fields += [(f"brands.{market}", b) for market, names in drug.brands.items() for b in names]
        fields += [("aliases", a) for a in drug.aliases]
        for field, text in fields:
            name = normalise_name(text)
            if name in owner and owner[name] != drug.id:
                raise CatalogueError(
                    f"drugs/{drug.id}.toml: {field}: name {text!r} is also used by "
                    f"drugs/{owner[name]}.toml"
                )
            owner[name] = drug.id


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped inside the package, loaded once per process (from the validated
    snapshot of the same files when there is one, see ``benzotaper.snapshot``)."""
    from benzotaper.snapshot import snapshot

    return snapshot("catalogue", load_catalogue, Catalogue)
