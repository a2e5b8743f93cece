"""Pydantic shapes of course records, in and out, and of a course import's report."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field, field_validator

from agentladder.imports.schemas import ImportPreview, ImportResult, RowPlan

# More hours than this in one record is a typing error (a week's course is about 40).
MAX_COURSE_HOURS = 1000


class CourseCreate(BaseModel):
    """One completed course as a trainer enters it."""

    agent_id: int
    course: str = Field(min_length=1, max_length=200)
    completed_on: date
    hours: float = Field(ge=0, le=MAX_COURSE_HOURS, allow_inf_nan=False)
    source: str = Field(default="manual", min_length=1, max_length=200)

    @field_validator("course", "source", mode="before")
    @classmethod
    def _strip(cls, value: object) -> object:
        return value.strip() if isinstance(value, str) else value


class CourseRead(BaseModel):
    id: int
    agent_id: int
    employee_no: str
    agent_name: str
    course: str
    completed_on: date
    hours: float
    source: str
    recorded_at: datetime


class AgentCourseHours(BaseModel):
    """An agent's course hours over some days, and how many course records give them."""

    agent_id: int
    hours: float
    courses: int


class CourseRowPlan(RowPlan):
    """What importing one row does to the course record (agent, course, completion day)."""

    agent_id: int
    employee_no: str
    name: str
    course: str
    completed_on: date
    hours: float


CoursePreview = ImportPreview[CourseRowPlan]
CourseImportResult = ImportResult[CourseRowPlan]
