"""Imports every domain's models so that `Base.metadata` knows every table (for Alembic)."""

from agentladder.db import Base
from agentladder.demo import models as demo_models
from agentladder.external import models as external_models
from agentladder.imports import models as imports_models
from agentladder.ingest import models as ingest_models
from agentladder.knowledge import models as knowledge_models
from agentladder.ladder import models as ladder_models
from agentladder.metrics import models as metrics_models
from agentladder.org import models as org_models
from agentladder.quality import models as quality_models
from agentladder.training import models as training_models

metadata = Base.metadata

__all__ = [
    "demo_models",
    "external_models",
    "imports_models",
    "ingest_models",
    "knowledge_models",
    "ladder_models",
    "metadata",
    "metrics_models",
    "org_models",
    "quality_models",
    "training_models",
]
