"""The drug catalogue and dose conversion: pages and their JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from benzotaper.catalogue import DIAZEPAM, MARKETS, Catalogue, Drug
from benzotaper.conversion import Conversion, convert
from benzotaper.doses import parse_dose
from benzotaper.errors import BenzotaperError, UnknownDrugError
from benzotaper.web.deps import get_catalogue
from benzotaper.web.responses import CSRF_403, INPUT_422, NOT_FOUND_404
from benzotaper.web.templating import render

router = APIRouter()
CatalogueDep = Annotated[Catalogue, Depends(get_catalogue)]


# ----------------------------------------------------------------------------- shared views


def drug_names(cat: Catalogue) -> list[str]:
    """Every name a person may type (generics and brands), for the autocomplete list."""
    names: dict[str, None] = {}
    for d in cat:
        names.setdefault(d.name, None)
        for b in d.all_brands:
            names.setdefault(b, None)
    return sorted(names, key=str.lower)


def fmt_amount(x: float | list[float]) -> str:
    return f"{x[0]:g}–{x[1]:g}" if isinstance(x, list) else f"{x:g}"


class DrugSummary(BaseModel):
    id: str
    name: str
    drug_class: str = Field(alias="class")
    brands: list[str]
    uses: list[str]
    equivalent_to_10mg_diazepam: dict[str, float | list[float]]

    model_config = ConfigDict(populate_by_name=True)


class CatalogueOut(BaseModel):
    catalogue_version: str
    default_source: str
    default_source_reason: str
    drugs: list[DrugSummary]


class ReferenceOut(BaseModel):
    key: str
    citation: str
    url: str | None = None


def summary(d: Drug) -> DrugSummary:
    return DrugSummary(
        id=d.id,
        name=d.name,
        drug_class=d.drug_class.value,
        brands=d.all_brands,
        uses=[u.value for u in d.uses],
        equivalent_to_10mg_diazepam={e.source: e.as_json() for e in d.equivalents},
    )


def _drug_or_404(cat: Catalogue, name: str) -> Drug:
    try:
        return cat.drug(name)
    except UnknownDrugError as exc:
        raise HTTPException(status_code=404, detail=exc.message) from None


# ----------------------------------------------------------------------------- API


@router.get("/api/catalogue", tags=["catalogue"], response_model=CatalogueOut)
def api_catalogue(cat: CatalogueDep) -> CatalogueOut:
    """Every drug with its brands and its diazepam equivalents per source."""
    return CatalogueOut(
        catalogue_version=cat.version,
        default_source=cat.default_source,
        default_source_reason=cat.default_source_reason,
        drugs=[summary(d) for d in cat],
    )


@router.get(
    "/api/catalogue/{name}",
    tags=["catalogue"],
    response_model=Drug,
    responses={404: NOT_FOUND_404, 422: INPUT_422},
)
def api_drug(
    cat: CatalogueDep, name: Annotated[str, PathParam(min_length=1, max_length=100)]
) -> Drug:
    """One drug by generic name, brand or common misspelling: sources, half-lives, products."""
    return _drug_or_404(cat, name)


@router.get("/api/references", tags=["catalogue"], response_model=list[ReferenceOut])
def api_references(cat: CatalogueDep) -> list[ReferenceOut]:
    """Every reference a number in the catalogue points at."""
    return [
        ReferenceOut(key=r.key, citation=r.citation(), url=r.url) for r in cat.references.values()
    ]


class ConvertIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    drug: str = Field(min_length=1, max_length=100, examples=["clonazepam"])
    dose: str = Field(
        min_length=1, max_length=40, description="Dose with a unit", examples=["0.5 mg"]
    )
    to: str = Field(default=DIAZEPAM, min_length=1, max_length=100)
    source: str | None = Field(default=None, max_length=100, description="Equivalence source key")


@router.post(
    "/api/convert",
    tags=["catalogue"],
    response_model=Conversion,
    responses={403: CSRF_403, 422: INPUT_422},
)
def api_convert(body: ConvertIn, cat: CatalogueDep) -> Conversion:
    """Equivalent dose of another drug, with the source used, the range and every source's value."""
    return convert(cat, body.drug, parse_dose(body.dose), body.to, body.source or None)


# ----------------------------------------------------------------------------- pages


@router.get("/drugs", response_class=HTMLResponse, include_in_schema=False)
def drugs_page(request: Request, cat: CatalogueDep) -> HTMLResponse:
    return render(request, "drugs.html", {"nav": "drugs", "cat": cat, "fmt": fmt_amount})


@router.get("/drugs/{name}", response_class=HTMLResponse, include_in_schema=False)
def drug_page(
    request: Request, cat: CatalogueDep, name: Annotated[str, PathParam(max_length=100)]
) -> HTMLResponse:
    d = _drug_or_404(cat, name)
    return render(
        request,
        "drug.html",
        {"nav": "drugs", "cat": cat, "d": d, "fmt": fmt_amount, "markets": MARKETS},
    )


def _convert_context(cat: Catalogue, values: dict[str, str]) -> dict[str, Any]:
    return {
        "nav": "convert",
        "cat": cat,
        "names": drug_names(cat),
        "sources": cat.equivalence_sources(),
        "values": values,
        "fmt": fmt_amount,
    }


@router.get("/convert", response_class=HTMLResponse, include_in_schema=False)
def convert_page(request: Request, cat: CatalogueDep) -> HTMLResponse:
    values = {"drug": "", "dose": "", "to": DIAZEPAM, "source": ""}
    return render(request, "convert.html", _convert_context(cat, values))


@router.post("/convert", response_class=HTMLResponse, include_in_schema=False)
def convert_submit(
    request: Request,
    cat: CatalogueDep,
    drug: Annotated[str, Form(max_length=100)] = "",
    dose: Annotated[str, Form(max_length=40)] = "",
    to: Annotated[str, Form(max_length=100)] = DIAZEPAM,
    source: Annotated[str, Form(max_length=100)] = "",
) -> HTMLResponse:
    values = {"drug": drug, "dose": dose, "to": to or DIAZEPAM, "source": source}
    ctx = _convert_context(cat, values)
    status = 200
    try:
        if not drug.strip():
            raise UnknownDrugError("", [])
        ctx["result"] = convert(cat, drug, parse_dose(dose), values["to"], source or None)
    except BenzotaperError as exc:
        ctx["error"] = "Please enter the medicine's name." if not drug.strip() else exc.message
        status = 422
    template = (
        "partials/convert_result.html" if request.headers.get("HX-Request") else "convert.html"
    )
    return render(request, template, ctx, status_code=status)
