"""A loyalty program is a validated document (programs/*.yaml), not code."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    name: str
    single_receipt_min: int | None = Field(None, ge=0, description="fen on one receipt (L-04)")
    rolling_spend_min: int | None = Field(None, ge=0, description="fen within rolling_months (L-04)")
    rolling_months: int | None = Field(None, ge=1)
    discount_pct: int = Field(0, ge=0, le=100, description="member price discount (L-06)")


class Earn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    points_per_yuan: int = Field(ge=0, description="L-01")


class Program(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    brand: str
    earn: Earn
    tiers: list[Tier] = Field(min_length=1, description="lowest first; the first is the entry tier")
    birthday_discount_pct: int = Field(0, ge=0, le=100)

    @model_validator(mode="after")
    def _distinct_tiers(self) -> Program:
        codes = [t.code for t in self.tiers]
        if len(set(codes)) != len(codes):
            raise ValueError("tier codes must be distinct")
        return self

    @property
    def entry_tier(self) -> Tier:
        return self.tiers[0]

    def rank(self, code: str) -> int:
        for i, t in enumerate(self.tiers):
            if t.code == code:
                return i
        return 0

    def tier(self, code: str) -> Tier:
        return self.tiers[self.rank(code)]


class ProgramError(ValueError):
    """A program file that cannot be used; the message names the file and every error."""


def load_program(path: Path) -> Program:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ProgramError(f"{path}: not valid YAML: {e}") from e
    try:
        return Program.model_validate(doc)
    except ValidationError as e:
        errs = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
        raise ProgramError(f"{path}: {errs}") from e


def load_programs(directory: Path) -> dict[str, Program]:
    programs = {p.id: p for p in (load_program(f) for f in sorted(directory.glob("*.yaml")))}
    if not programs:
        raise ProgramError(f"{directory}: no program files")
    return programs
